"""Runs a plan: schedules steps as their inputs become ready, records what happens.

Independent steps run at once (bounded); a failure lets running steps finish and starts
nothing new; a stop request ends running steps' processes. Every artifact made stays.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Optional

from smlocal import faults, retries
from smlocal.definition import Plan, StepSpec, own_arguments, refusal
from smlocal.errors import DefinitionError, ExecutionStopped, StepFailed, UserDataError
from smlocal.executions import ExecutionStore, StepRecord, now, to_json
from smlocal.expressions import ExpressionError, Scope, evaluate
from smlocal.models import ModelStore
from smlocal.registry import ModelRegistry
from smlocal.sources import DataSources
from smlocal.steps import EXECUTORS, StepContext, StepOutcome
from smlocal.store import ObjectStore, StoreError

log = logging.getLogger(__name__)
DEFAULT_PARALLELISM = 4
FINAL = ("Succeeded", "Failed", "Stopped", "NotExecuted")
# A step's own fields, outside its Arguments, that its executor reads resolved (StepContext.fields).
STEP_FIELDS = ("FunctionArn", "SqsQueueUrl")
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_duration(text: str) -> Optional[timedelta]:
    """ISO-8601 durations as CacheConfig's ExpireAfter uses them (P30D, PT1H, P1DT12H)."""
    match = _DURATION.match(str(text or "").strip())
    if not match or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


@dataclass
class Services:
    """What step executors may use, besides their own folders."""

    store: ObjectStore
    registry: ModelRegistry
    sources: DataSources
    models: ModelStore
    jobs: Any = None  # the job runner (jobs.JobRunner) that processing/training/transform steps use
    functions: Any = None  # Lambda functions (functions.FunctionStore) that Lambda steps invoke
    queues: Any = None  # SQS queues (queues.QueueStore) that Callback steps send to
    callbacks: Any = None  # Callback steps' tokens (callbacks.CallbackStore)
    history: Any = None  # the execution records (executions.ExecutionStore)


def step_fields(spec: StepSpec) -> dict:
    """The step's own fields (outside Arguments) that its executor reads, unresolved."""
    return {k: spec.raw[k] for k in STEP_FIELDS if k in spec.raw}


@dataclass
class Selection:
    """A selective execution: the steps that run, and the source results of those they read."""

    selected: set[str]
    source_arn: Optional[str] = None
    reused: dict[str, StepRecord] = field(default_factory=dict)


@dataclass
class ExecutionInfo:
    arn: str
    id: str
    pipeline_name: str
    pipeline_arn: str
    region: str
    account: str
    parameters: dict
    started: datetime = field(default_factory=now)
    display_name: str = ""


class Engine:
    def __init__(
        self,
        plan: Plan,
        info: ExecutionInfo,
        services: Services,
        history: ExecutionStore,
        work_dir: Path,
        max_parallel: int = DEFAULT_PARALLELISM,
        selection: Optional[Selection] = None,
    ):
        self.plan = plan
        self.selection = selection
        self.info = info
        self.services = services
        self.history = history
        self.work_dir = work_dir
        self.max_parallel = max(1, max_parallel)
        self.stop = threading.Event()
        self.scope = Scope(
            parameters=info.parameters,
            execution=self._execution_variables(),
            read_json=lambda uri: json.loads(services.store.get_bytes(uri)),
        )

    def _execution_variables(self) -> dict[str, Any]:
        info = self.info
        return {
            "PipelineName": info.pipeline_name,
            "PipelineArn": info.pipeline_arn,
            "PipelineExecutionId": info.id,
            "PipelineExecutionArn": info.arn,
            "StartDateTime": info.started.isoformat(),
            "CurrentDateTime": lambda: now().isoformat(),
        }

    # scheduling
    def run(self) -> tuple[str, Optional[str]]:
        """Run to the end; returns the execution's final status and failure reason."""
        pending = set(self.selection.selected if self.selection else self.plan.steps)
        state: dict[str, str] = {}
        outcomes: dict[str, Optional[bool]] = {}
        failure: Optional[str] = None
        for name, source in (self.selection.reused if self.selection else {}).items():
            try:
                state[name], outcomes[name] = "Succeeded", self._reuse(source)
            except StepFailed as err:  # e.g. its property file is gone from the object store
                state[name], failure = "Failed", f"Step {name} failed: {err}"
        running: dict[Future, str] = {}
        with ThreadPoolExecutor(max_workers=self.max_parallel, thread_name_prefix="step") as pool:
            while True:
                if self.history.stop_requested(self.info.arn):
                    self.stop.set()
                if failure is None and not self.stop.is_set():
                    self._schedule(pool, pending, state, outcomes, running)
                if not running:
                    break
                finished, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    try:
                        status, outcome, reason = future.result()
                    except Exception as err:  # never expected; the execution still ends
                        status, outcome, reason = "Failed", None, internal_error(err, None)
                    state[name] = status
                    outcomes[name] = outcome
                    if status == "Failed" and failure is None:
                        failure = f"Step {name} failed: {reason}"
        if self.stop.is_set() and failure is None:
            status, reason = "Stopped", None
        elif failure is not None:
            status, reason = "Failed", failure
        else:
            status, reason = "Succeeded", None
        return status, reason

    def _schedule(self, pool, pending: set, state: dict, outcomes: dict, running: dict) -> None:
        """Start every step whose upstream steps are done; skip those that will not run."""
        progressed = True
        while progressed:
            progressed = False
            for name in sorted(pending):
                spec = self.plan.steps[name]
                if any(state.get(u) not in FINAL for u in spec.upstream):
                    continue
                if not self._will_run(spec, state, outcomes):
                    state[name] = "NotExecuted"
                elif len(running) < self.max_parallel:
                    state[name] = "Executing"
                    running[pool.submit(self._run_step, spec)] = name
                else:
                    continue
                pending.discard(name)
                progressed = True

    @staticmethod
    def _will_run(spec: StepSpec, state, outcomes) -> bool:
        if any(state[u] != "Succeeded" for u in spec.upstream):
            return False
        if spec.branch is not None:
            return outcomes.get(spec.branch.condition) is spec.branch.outcome
        return True

    def _reuse(self, source: StepRecord) -> Optional[bool]:
        """A step a selective execution takes from its source: its properties, recorded as reused."""
        self.history.step_reused(self.info.arn, source, self.selection.source_arn)
        self._publish(self.plan.steps[source.name], source.properties or {})
        outcome = (source.properties or {}).get("Outcome")
        return None if outcome is None else str(outcome) == "True"

    # one step
    def _run_step(self, spec: StepSpec) -> tuple[str, Optional[bool], Optional[str]]:
        """Runs in a worker thread; returns (status, condition outcome, failure reason)."""
        job_dir = self.work_dir / spec.name
        cache_key = None
        try:
            self.history.step_started(
                self.info.arn, spec.name, spec.type, spec.display_name, str(job_dir / "logs")
            )
            arguments = evaluate(own_arguments(spec), self.scope)
            fields = evaluate(step_fields(spec), self.scope)
            cache_key = self._cache_key(spec)
            cached = self._cached(spec, cache_key)
            if cached is not None:
                source, properties, metadata = cached
                self._publish(spec, properties)
                self.history.step_finished(
                    self.info.arn,
                    spec.name,
                    "Succeeded",
                    metadata=metadata,
                    properties=properties,
                    cache_key=cache_key,
                    cache_source=source,
                )
                return "Succeeded", None, None
            ctx = StepContext(
                step=spec,
                arguments=arguments,
                pipeline_name=self.info.pipeline_name,
                execution_id=self.info.id,
                execution_arn=self.info.arn,
                region=self.info.region,
                account=self.info.account,
                job_dir=job_dir,
                store=self.services.store,
                services=self.services,
                stop=self.stop,
                fields=fields,
            )
            result = self._attempts(spec, ctx)
            self._publish(spec, result.properties)
        except ExecutionStopped:
            try:
                self.history.step_finished(
                    self.info.arn, spec.name, "Stopped", failure_reason="Stopped by request"
                )
            except Exception as err:  # cannot be recorded: the execution still stops
                log.info("step %s: its stop could not be recorded: %s", spec.name, err)
            return "Stopped", None, None
        except StepFailed as err:
            reason = str(err)
            try:
                self.history.step_finished(
                    self.info.arn,
                    spec.name,
                    "Failed",
                    failure_reason=reason,
                    metadata=getattr(err, "metadata", None),
                )
            except Exception as record_error:
                log.info("step %s: its failure could not be recorded: %s", spec.name, record_error)
            return "Failed", None, reason
        except Exception as err:  # an engine fault must fail the step, not hang the execution
            reason = internal_error(err, job_dir)
            self._record_failure(spec.name, reason)
            return "Failed", None, reason
        try:
            self.history.step_finished(
                self.info.arn,
                spec.name,
                "Succeeded",
                metadata=result.metadata,
                properties=result.properties,
                cache_key=cache_key if spec.cache_config.get("Enabled") else None,
            )
        except Exception as err:  # the record cannot be written (disk full): the step fails
            reason = internal_error(err, job_dir)
            self._record_failure(spec.name, reason)
            return "Failed", None, reason
        return "Succeeded", result.outcome, None

    def _record_failure(self, name: str, reason: str) -> None:
        """Record a step's failure if the state can be written; the engine goes on if not."""
        try:
            self.history.step_finished(self.info.arn, name, "Failed", failure_reason=reason)
        except Exception as err:  # e.g. the disk is full: the execution's reason still says why
            log.info("step %s: its failure could not be recorded: %s", name, err)

    def _attempts(self, spec: StepSpec, ctx: StepContext) -> StepOutcome:
        """Run the step's executor, again as its RetryPolicies say; each attempt in its own folder."""
        first_start = time.monotonic()
        attempt = 1
        while True:
            ctx.job_dir = self.work_dir / spec.name / (f"attempt-{attempt}" if attempt > 1 else "")
            ctx.job_dir.mkdir(parents=True, exist_ok=True)
            try:
                return EXECUTORS[spec.type].run(ctx)
            except ExecutionStopped:
                raise
            except StepFailed as err:
                error = err
            except UserDataError as err:  # the user's data or code: ClientError, not retried
                error = StepFailed(f"ClientError: {err}")
            except Exception as err:  # the local target's own fault while running the step
                storage = faults.describe(err)
                error = StepFailed(
                    internal_error(err, ctx.job_dir),
                    kind=None if storage else retries.SERVICE_FAULT,  # a full disk stays full
                )
            delay = retries.delay_before_retry(
                spec.retry_policies, error.kind, attempt, first_start
            )
            if delay is None:
                raise error
            log.info(
                "step %s attempt %d failed (%s); retrying in %.1f s",
                spec.name,
                attempt,
                error,
                delay,
            )
            if self.stop.wait(delay):
                raise ExecutionStopped("the execution was stopped")
            attempt += 1
            self.history.step_retried(self.info.arn, spec.name)

    def _publish(self, spec: StepSpec, properties: dict) -> None:
        """Make a finished step's properties and property files readable by later steps."""
        properties = json.loads(to_json(properties))
        files = {}
        for pf in spec.property_files:
            outputs = (properties.get("ProcessingOutputConfig") or {}).get("Outputs") or []
            output = next((o for o in outputs if o.get("OutputName") == pf.get("OutputName")), None)
            if output is None:
                raise StepFailed(
                    f"ClientError: property file {pf.get('PropertyFileName')!r} "
                    f"names an unknown output {pf.get('OutputName')!r}"
                )
            uri = f"{output['S3Output']['S3Uri'].rstrip('/')}/{pf.get('FilePath', '').lstrip('/')}"
            try:
                files[pf["PropertyFileName"]] = json.loads(self.services.store.get_bytes(uri))
            except (StoreError, ValueError) as err:
                raise StepFailed(
                    f"ClientError: property file {pf['PropertyFileName']!r} at {uri}: {err}"
                ) from None
        self.scope.property_files[spec.name] = files
        self.scope.step_properties[spec.name] = properties

    # caching
    def _cache_key(self, spec: StepSpec) -> Optional[str]:
        """Hash of the step's attributes as SageMaker compares them: execution variables unresolved."""
        if not spec.cache_config.get("Enabled"):
            return None
        masked = Scope(
            parameters=self.scope.parameters,
            execution={k: f"${{Execution.{k}}}" for k in self.scope.execution},
            step_properties=self.scope.step_properties,
            property_files=self.scope.property_files,
            read_json=self.scope.read_json,
        )
        try:
            body = {"Type": spec.type, "Arguments": evaluate(own_arguments(spec), masked)}
        except ExpressionError:
            return None
        return hashlib.sha256(to_json(body).encode()).hexdigest()

    def _cached(self, spec: StepSpec, key: Optional[str]):
        if key is None:
            return None
        expire = parse_duration(spec.cache_config.get("ExpireAfter", ""))
        not_before = now() - expire if expire else None
        return self.history.cached_step(self.info.pipeline_name, spec.name, key, not_before)


def internal_error(err: BaseException, job_dir: Optional[Path]) -> str:
    """The failure reason for a fault of the local target's: one line, details kept if possible.

    A storage fault (disk full, read-only) says so and where; anything else names the error
    and the ``engine-error.log`` that holds its traceback -- when that file could be written.
    """
    storage = faults.describe(err)
    if storage:
        return f"InternalError: the local target could not write: {storage}"
    detail = traceback.format_exc()
    log_file = faults.write_quietly(job_dir / "engine-error.log", detail) if job_dir else None
    where = f" (details in {log_file})" if log_file else ""
    return f"InternalError: {type(err).__name__}: {err}{where}"


def preflight(plan: Plan, steps: set[str], scope: Scope, services: Services, region: str) -> None:
    """Refuse, before an execution starts, steps that need what this machine does not have.

    An executor may check more than the definition, e.g. that a Lambda function has code here.
    Every step refused is named in the one DefinitionError.
    """
    errors: dict[str, DefinitionError] = {}
    for name in sorted(steps):
        spec = plan.steps[name]
        check = getattr(EXECUTORS[spec.type], "preflight", None)
        if check is None:
            continue
        try:
            fields = evaluate(step_fields(spec), scope)
        except ExpressionError:  # read from other steps: checked when the step runs
            continue
        try:
            check(spec, fields, services, region)
        except DefinitionError as err:
            errors[name] = err
    if errors:
        raise refusal(errors)


def compile_plan(definition) -> Plan:
    """Parse a definition and let each step's executor refuse what it cannot run, up front.

    Every step refused is named in the one DefinitionError, so all are fixed in one go.
    """
    from smlocal.definition import parse

    def validate(spec) -> None:
        EXECUTORS[spec.type].validate(spec)
        retries.validate(spec.name, spec.retry_policies)

    return parse(definition, supported_types=set(EXECUTORS), validate=validate)
