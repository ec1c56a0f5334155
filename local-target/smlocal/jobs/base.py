"""What every job kind shares: its refusals, what a running job is given, Describe's shape."""

from __future__ import annotations

import functools
import posixpath
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional, Protocol

from smlocal import shapes
from smlocal.errors import LocalTargetError
from smlocal.jobs.records import JobRecord
from smlocal.models import ModelStore
from smlocal.sources import DataSources
from smlocal.store import ObjectStore, StoreError, check_uri

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


def is_expression(value: Any) -> bool:
    """A definition's function call (``{"Get": ...}``), evaluated only when the step starts."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return key == "Get" or key.startswith("Std:")


def container_path(path: Any, what: str) -> str:
    """``path`` as a normal container path under ``/opt/ml``; refused if it leads anywhere else.

    ``..`` is resolved first: ``/opt/ml/processing/../../../tmp`` is ``/tmp``, outside.
    """
    if not isinstance(path, str):
        refuse(f"{what} must be a path under {CONTAINER_ROOT}, got {path!r}")
    if "\0" in path:
        refuse(f"{what} {path!r} holds a NUL byte")
    normal = posixpath.normpath(path)
    if not path.startswith("/") or not (
        normal == CONTAINER_ROOT or normal.startswith(CONTAINER_ROOT + "/")
    ):
        refuse(
            f"{what} {path!r} is outside {CONTAINER_ROOT}; the local target maps only {CONTAINER_ROOT}"
        )
    return normal


def check_container_path(path: Any, what: str = "local path") -> None:
    """Refuse a literal path outside ``/opt/ml``; an expression is checked once it is evaluated."""
    if path is not None and not is_expression(path):
        container_path(path, what)


def host_path(container: Path, path: Any, what: str) -> Path:
    """Where a container path is on this machine: inside ``container``, symbolic links resolved.

    A link the job's own files hold cannot lead the local target outside the job's folder.
    """
    return _inside(container, container / container_path(path, what).lstrip("/"), path, what)


def child_path(folder: Path, name: Any, what: str) -> Path:
    """``folder / name`` for a name (a channel's), refused unless it is one folder inside."""
    if not isinstance(name, str) or "\0" in name or name in ("", ".", "..") or "/" in name:
        refuse(f"{what} {name!r} cannot be a folder name")
    return _inside(folder, folder / name, name, what)


def _inside(folder: Path, target: Path, given: Any, what: str) -> Path:
    root, resolved = folder.resolve(), target.resolve()
    if resolved != root and root not in resolved.parents:
        refuse(f"{what} {given!r} leads outside the job's container folder (to {resolved})")
    return target


def check_output_uri(uri: Any, what: str) -> None:
    """Refuse, before a job runs, an output URI its results could not be stored at."""
    if uri is None or is_expression(uri):
        return
    try:
        check_uri(uri)
    except StoreError as err:
        refuse(f"{what}: {err}")


def check_request_shape(request: dict, operation: str) -> None:
    """Refuse numbers outside SageMaker's ranges and fields of the wrong type, as its API does.

    botocore checks a request made through the API on the client side; a definition's
    arguments reach the local target unchecked, so the same limits are read from its model.
    """
    problems = list(shapes.range_problems(request, operation, skip=is_expression))
    if problems:
        refuse("; ".join(problems[:3]))


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
