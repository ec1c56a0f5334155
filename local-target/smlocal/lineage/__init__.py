"""Lineage: SageMaker's tracking entities for jobs, model packages and deployments, and their query.

``store`` keeps entities and associations (SQLite), ``hashing`` gives artifacts their content
hash, ``recorder`` maps jobs, packages and deployments to entities, ``query`` answers
QueryLineage. The hooks below are what the job runner, the registry and an endpoint's host
call; lineage never fails them: an error is logged and the work goes on.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from smlocal import config

if TYPE_CHECKING:
    from smlocal.endpoints.records import EndpointRecord
    from smlocal.endpoints.resolve import ServedModel
    from smlocal.jobs.records import JobRecord

log = logging.getLogger(__name__)

__all__ = ["record_deployment", "record_job", "record_model_package"]


def record_job(
    home: Path,
    record: "JobRecord",
    status: str,
    result: dict,
    failure_reason: Optional[str] = None,
) -> None:
    """As a job (``jobs.JobRecord``) ends with ``status``: its trial component, inputs, outputs.

    Called before the job's record says it ended, so whoever sees it ended finds its lineage.
    """
    try:
        from smlocal.lineage.recorder import Recorder

        ended = dataclasses.replace(
            record,
            status=status,
            result=result,
            failure_reason=failure_reason,
            ended=record.ended or datetime.now(timezone.utc),
        )
        Recorder(home, record.region).job(ended)
    except Exception:  # noqa: BLE001 - lineage is a record of the work, never a cause of failure
        log.exception("lineage of job %s not recorded", getattr(record, "name", "?"))


def record_model_package(home: Path, region: str, account: str, package: dict) -> None:
    """After a model package version is made (``DescribeModelPackage`` fields)."""
    try:
        from smlocal.lineage.recorder import Recorder

        Recorder(home, region, account).model_package(package)
    except Exception:  # noqa: BLE001 - see record_job
        log.exception("lineage of model package %s not recorded", package.get("ModelPackageArn"))


def record_deployment(
    home: Path, endpoint: "EndpointRecord", config_name: str, model: "ServedModel", generation: int
) -> None:
    """After an endpoint starts serving a configuration (``EndpointRecord``, ``ServedModel``)."""
    try:
        from smlocal.lineage.recorder import Recorder

        Recorder(home, endpoint.region, config.ACCOUNT_ID).deployment(
            endpoint, config_name, model, generation
        )
    except Exception:  # noqa: BLE001 - see record_job
        log.exception("lineage of endpoint %s not recorded", getattr(endpoint, "name", "?"))
