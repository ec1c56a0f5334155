"""What every job kind shares: its refusals, what a running job is given, Describe's shape."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional, Protocol

from smlocal.errors import LocalTargetError
from smlocal.jobs.records import JobRecord
from smlocal.models import ModelStore
from smlocal.sources import DataSources
from smlocal.store import ObjectStore

CONTAINER_ROOT = "/opt/ml"


class JobRequestError(LocalTargetError):
    """A Create* request the local target refuses before any work (a ValidationException)."""


def refuse(message: str) -> NoReturn:
    raise JobRequestError(message)


def refuse_present(request: dict, keys: tuple[str, ...], why: str) -> None:
    """Refuse options that would change a job's results and that the local target cannot honour."""
    for key in keys:
        if request.get(key) not in (None, {}, []):
            refuse(f"{key} is not supported locally ({why})")


def check_container_path(path: Any) -> None:
    if isinstance(path, str) and not (
        path == CONTAINER_ROOT or path.startswith(CONTAINER_ROOT + "/")
    ):
        refuse(
            f"local path {path!r} is outside {CONTAINER_ROOT}; "
            f"the local target maps only {CONTAINER_ROOT}"
        )


def strings(values: Optional[dict]) -> dict:
    """A map of strings, as the API types HyperParameters and Environment (steps may give numbers)."""
    return {str(k): v if isinstance(v, str) else str(v) for k, v in (values or {}).items()}


@dataclass
class JobContext:
    """One run of one job: its request, its folder, the state it may use, its stop signal."""

    name: str
    arn: str
    request: dict
    work_dir: Path
    store: ObjectStore
    sources: DataSources
    models: ModelStore
    stop: threading.Event
    env: dict  # the environment every process of the job gets (the local target on)
    progress: Callable[[str, str], None] = lambda status, message: None
    result: dict = field(default_factory=dict)  # Describe fields the run adds, even if it fails

    @property
    def logs(self) -> Path:
        return self.work_dir / "logs"

    @property
    def ml(self) -> Path:
        """Where the job's ``/opt/ml`` is on this machine."""
        return self.work_dir / "container" / CONTAINER_ROOT.lstrip("/")


class JobKind(Protocol):
    """One kind of job: the names it has in the API, its refusals, its run, its Describe."""

    kind: str  # "Training": CreateTrainingJob, TrainingJobName, TrainingJobStatus, ...
    resource: str  # the ARN's resource type, e.g. "training-job"

    def normalise(self, request: dict) -> dict: ...

    def validate(self, request: dict, models: Optional[ModelStore] = None) -> None: ...

    def run(self, ctx: JobContext) -> None: ...

    def describe(self, record: JobRecord) -> dict: ...

    def summary(self, record: JobRecord) -> dict: ...


@functools.lru_cache(maxsize=None)
def _members(shape_name: str, operation: Optional[str] = None) -> frozenset:
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = (
        model.operation_model(operation).output_shape if operation else model.shape_for(shape_name)
    )
    return frozenset(shape.members)


def shaped(response: dict, operation: str = "", shape: str = "") -> dict:
    """Keep only what the operation's output shape has (Tags and our own keys stay out)."""
    members = _members(shape, operation or None)
    return {k: v for k, v in response.items() if k in members and v is not None}


def common_fields(record: JobRecord) -> dict:
    """Describe fields every kind has under its own names."""
    kind = record.kind
    fields = {
        **record.request,
        f"{kind}JobName": record.name,
        f"{kind}JobArn": record.arn,
        f"{kind}JobStatus": record.status,
        "CreationTime": record.created,
        "LastModifiedTime": record.modified,
        f"{kind}StartTime": record.started,
        f"{kind}EndTime": record.ended,
        **record.result,
    }
    if record.failure_reason:
        fields["FailureReason"] = record.failure_reason
    return fields
