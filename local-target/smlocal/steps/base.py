"""The one narrow interface every step executor implements, and what it is given."""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Protocol

from smlocal import config
from smlocal.definition import StepSpec
from smlocal.errors import DefinitionError, ExecutionStopped, StepFailed
from smlocal.jobs import KINDS, JobRequestError
from smlocal.store import ObjectStore

_ALPHABET = string.ascii_lowercase + string.digits


def random_suffix(length: int = 10) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass
class StepContext:
    """One attempt of one step: resolved arguments and the places it may write."""

    step: StepSpec
    arguments: dict
    pipeline_name: str
    execution_id: str
    execution_arn: str
    region: str
    account: str
    job_dir: Path
    store: ObjectStore
    services: Any  # registry, data sources and the job runner, see engine.Services
    stop: threading.Event = field(default_factory=threading.Event)
    fields: dict = field(default_factory=dict)  # the step's own fields, resolved: FunctionArn...

    def job_name(self) -> str:
        """Name the job as SageMaker names a pipeline's jobs: pipelines-<exec>-<step>-<suffix>."""
        step = "".join(c if c.isalnum() or c == "-" else "-" for c in self.step.name)
        return f"pipelines-{self.execution_id}-{step[:28]}-{random_suffix()}"

    def arn(self, resource: str, name: str) -> str:
        return config.arn(self.region, self.account, resource, name)


@dataclass
class StepOutcome:
    """What a finished step leaves: its properties (Describe* shape) and list metadata."""

    properties: dict
    metadata: dict
    outcome: Optional[bool] = None  # a condition's result


class StepExecutor(Protocol):
    """Runs one step type. ``validate`` is called for every step before the run starts."""

    def validate(self, step: StepSpec) -> None: ...

    def run(self, ctx: StepContext) -> StepOutcome: ...


def validate_job(step: StepSpec, kind: str) -> None:
    """Refuse, before the run, a step whose job the job runner would refuse."""
    try:
        KINDS[kind].validate(step.arguments)
    except JobRequestError as err:
        raise DefinitionError(f"step {step.name!r}: {err}") from None


def run_job(ctx: StepContext, kind: str) -> StepOutcome:
    """Create the step's job through the job runner and wait for it; its Describe* is the step's.

    As on SageMaker, the job is named after the execution and step, and stopping the execution
    stops it. The job's folder is the step's (attempt's) folder.
    """
    runner = ctx.services.jobs
    request = {**ctx.arguments, f"{kind}JobName": ctx.job_name()}
    try:
        record = runner.start(kind, request, work_dir=ctx.job_dir)
    except JobRequestError as err:
        raise StepFailed(f"ClientError: {err}") from None
    record = runner.wait(kind, record.name, stop=ctx.stop)
    metadata = {f"{kind}Job": {"Arn": record.arn}}
    if record.status == "Stopped" and ctx.stop.is_set():
        raise ExecutionStopped("the execution was stopped")
    if record.status != "Completed":
        failure = StepFailed(
            record.failure_reason or f"{kind} job {record.name} ended {record.status}",
            kind=record.failure_kind,
        )
        failure.metadata = metadata
        raise failure
    return StepOutcome(runner.describe(kind, record.name), metadata)
