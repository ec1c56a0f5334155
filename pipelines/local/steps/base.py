"""The one narrow interface every step executor implements, and what it is given."""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Protocol

from pipelines.local import config
from pipelines.local.definition import StepSpec
from pipelines.local.store import ObjectStore

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
    services: Any  # registry and data sources, see engine.Services
    stop: threading.Event = field(default_factory=threading.Event)

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
