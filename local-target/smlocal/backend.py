"""The local SageMaker backend: state and rules behind the client (as moto splits them).

One backend per state folder and process, shared by every client on it, so an execution
started by one client can be stopped through another.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import string
import threading
from pathlib import Path
from typing import Any, Optional

from smlocal import config, faults
from smlocal.callbacks import CallbackStore
from smlocal.definition import load
from smlocal.engine import Engine, ExecutionInfo, Services, compile_plan, preflight
from smlocal.errors import LocalTargetError
from smlocal.executions import ExecutionStore, now
from smlocal.expressions import evaluate
from smlocal.functions import FunctionStore
from smlocal.jobs import JobRunner
from smlocal.parameters import resolve
from smlocal.models import ModelStore
from smlocal.registry import ModelRegistry
from smlocal.sources import DataSources
from smlocal.queues import QueueStore
from smlocal.selective import select
from smlocal.store import ObjectStore

log = logging.getLogger(__name__)
PICTURE = "pipeline.png"

_BACKENDS: dict[tuple[str, str], "LocalBackend"] = {}
_BACKENDS_LOCK = threading.Lock()


class NotFound(LocalTargetError):
    """ResourceNotFound in SageMaker's terms."""


class Conflict(LocalTargetError):
    """A request that clashes with existing state (e.g. "already exists")."""


def get_backend(home: Path, region: str) -> "LocalBackend":
    key = (str(Path(home).resolve()), region)
    with _BACKENDS_LOCK:
        if key not in _BACKENDS:
            _BACKENDS[key] = LocalBackend(Path(home), region)
        return _BACKENDS[key]


def _execution_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(12))


class LocalBackend:
    def __init__(self, home: Path, region: str, account: str = config.ACCOUNT_ID):
        self.home = Path(home)
        self.region = region
        self.account = account
        self.store = ObjectStore(self.home / "s3")
        self.history = ExecutionStore(self.home / "state.sqlite")
        self.registry = ModelRegistry(self.home / "state.sqlite", region, account)
        self.models = ModelStore(self.home / "state.sqlite", region, account)
        sources = DataSources(self.store, self.home / "datasets")
        self.jobs = JobRunner(self.home, region, account, self.store, sources, self.models)
        self.services = Services(
            self.store,
            self.registry,
            sources,
            self.models,
            self.jobs,
            functions=FunctionStore(self.home),
            queues=QueueStore(self.home),
            callbacks=CallbackStore(self.home),
            history=self.history,
        )
        self.threads: dict[str, threading.Thread] = {}
        # Final statuses that could not be recorded (a full disk), as this process knows them.
        self.unrecorded: dict[str, tuple[str, Optional[str]]] = {}

    def arn(self, kind: str, name: str) -> str:
        return config.arn(self.region, self.account, kind, name)

    # pipelines
    def put_pipeline(
        self,
        name: str,
        definition: str,
        role_arn: str,
        *,
        create: bool,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        parallelism: Optional[dict] = None,
        tags: Optional[list] = None,
    ) -> str:
        compile_plan(definition)  # refuse what cannot run before storing it
        arn = self.arn("pipeline", name)
        if not self.history.upsert_pipeline(
            name,
            arn,
            definition,
            role_arn,
            display_name,
            description,
            parallelism,
            tags or [],
            create,
        ):
            if create:
                raise Conflict(
                    "Pipeline names must be unique within an AWS account and region. "
                    f"Pipeline with name ({name}) already exists."
                )
            raise NotFound(f"Pipeline '{arn}' does not exist.")
        return arn

    def pipeline(self, name_or_arn: str) -> dict:
        record = self.history.pipeline(name_or_arn)
        if record is None:
            raise NotFound(f"Pipeline '{name_or_arn}' does not exist.")
        return record

    # executions
    def start_execution(
        self,
        pipeline_name: str,
        overrides: dict[str, Any],
        display_name: Optional[str],
        description: Optional[str],
        max_parallel: Optional[int] = None,
        selective: Optional[dict] = None,
    ) -> str:
        """Check and record an execution, start it; refusals come before anything is recorded."""
        pipeline = self.pipeline(pipeline_name)
        plan = compile_plan(pipeline["definition"])
        parameters = resolve(plan.parameters, overrides)
        selection = select(plan, selective, pipeline["name"], self.history)
        execution_id = _execution_id()
        arn = f"{pipeline['arn']}/execution/{execution_id}"
        info = ExecutionInfo(
            arn=arn,
            id=execution_id,
            pipeline_name=pipeline["name"],
            pipeline_arn=pipeline["arn"],
            region=self.region,
            account=self.account,
            parameters=parameters,
            started=now(),
            display_name=display_name or "",
        )
        parallel = (
            max_parallel
            or int(os.environ.get("PIPELINES_LOCAL_PARALLELISM", 0) or 0)
            or min(4, os.cpu_count() or 1)
        )
        engine = Engine(
            plan,
            info,
            self.services,
            self.history,
            self.home / "executions" / execution_id,
            max_parallel=parallel,
            selection=selection,
        )
        steps = selection.selected if selection else set(plan.steps)
        preflight(plan, steps, engine.scope, self.services, self.region)
        experiment = load(pipeline["definition"]).get("PipelineExperimentConfig")
        self.history.create_execution(
            arn,
            execution_id,
            pipeline["name"],
            [{"Name": k, "Value": str(v)} for k, v in parameters.items()],
            pipeline["definition"],
            display_name,
            description,
            selective=selective,
            experiment=evaluate(experiment, engine.scope) if experiment else None,
        )
        thread = threading.Thread(
            target=self._run,
            args=(engine, pipeline["definition"]),
            name=f"execution-{execution_id}",
        )
        self.threads[arn] = thread
        thread.start()
        return arn

    def _run(self, engine: Engine, definition: str) -> None:
        """The execution's thread: run, record the final status, then keep its picture's inputs.

        Whatever fails here -- the engine, or writing the record on a full disk -- the
        execution ends: its final status is kept in memory when it cannot be recorded.
        """
        arn = engine.info.arn
        try:
            status, reason = engine.run()
        except BaseException as err:  # the record must never stay "Executing"
            status, reason = "Failed", f"InternalError: {faults.describe(err) or err}"
        try:
            self.history.finish_execution(arn, status, reason)
        except Exception as err:
            self.unrecorded[arn] = (status, reason)
            log.info("execution %s ended %s; this could not be recorded: %s", arn, status, err)
            return
        self._keep_picture_inputs(engine, definition)

    def _keep_picture_inputs(self, engine: Engine, definition: str) -> None:
        """Keep what the execution's picture is drawn from, beside its steps' folders.

        Written once the status is final, and never failing the run: the picture itself
        (steps coloured by status) is drawn on request, by ``pipelines-local picture
        <execution id>``, which also bounds its size.
        """
        folder = engine.work_dir
        try:
            statuses = {s.name: s.status for s in self.history.steps(engine.info.arn)}
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "definition.json").write_text(definition)
            (folder / "statuses.json").write_text(json.dumps(statuses))
        except Exception as err:  # a full disk: the run's outcome stands without its picture
            log.info("the picture of %s cannot be kept: %s", engine.info.arn, err)

    def execution(self, arn: str) -> dict:
        record = self.history.execution(arn)
        if record is None:
            raise NotFound(f"Pipeline execution '{arn}' does not exist.")
        if arn in self.unrecorded:
            status, reason = self.unrecorded[arn]
            record = {**record, "status": status, "failure_reason": reason}
        return record

    def stop_execution(self, arn: str) -> None:
        record = self.execution(arn)
        if record["status"] not in ("Executing", "Stopping"):
            raise Conflict(
                f"Pipeline execution '{arn}' is {record['status']} and cannot be stopped."
            )
        self.history.request_stop(arn)

    def wait(self, arn: str, timeout: Optional[float] = None) -> None:
        """Block until an execution started in this process ends (no polling delay)."""
        thread = self.threads.get(arn)
        if thread is not None:
            thread.join(timeout)
