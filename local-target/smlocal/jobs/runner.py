"""The job runner: every processing, training, transform and tuning job, whoever started it.

``start`` checks a Create* request, records the job and runs it on a thread of this process,
so the caller returns at once as SageMaker's API does; each status change is written when it
happens. A pipeline step and ``estimator.fit()`` take this same path; only the job's folder
differs (the step's folder, or ``<home>/jobs/<job-name>``). A tuning job's trials are this
runner's training jobs (``kind`` binds the tuning kind to its runner).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

from smlocal import config, faults, lineage, retries
from smlocal.errors import ExecutionStopped, LocalTargetError, StepFailed, UserDataError
from smlocal.jobs.base import JobContext, JobKind, JobRequestError
from smlocal.jobs.logs import LogAgent
from smlocal.jobs.processing import ProcessingJobKind
from smlocal.jobs.records import FINAL, JobRecord, JobStore
from smlocal.jobs.training import TrainingJobKind
from smlocal.jobs.transform import TransformJobKind
from smlocal.jobs.tuning import TuningJobKind
from smlocal.models import ModelStore
from smlocal.shapes import name_problem, request_member
from smlocal.sources import DataSources
from smlocal.store import ObjectStore

log = logging.getLogger(__name__)
KINDS: dict[str, JobKind] = {
    k.kind: k for k in (ProcessingJobKind(), TrainingJobKind(), TransformJobKind(), TuningJobKind())
}
WATCH_SECONDS = 0.25  # how often a running job looks for a stop asked by another process
WAIT_SECONDS = 0.05

# Training's secondary statuses as SageMaker words them.
MESSAGES = {
    "Starting": "Starting the training job",
    "Stopping": "Stopping the training job",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopped": "The training job was stopped",
    "MaxRuntimeExceeded": "The job was stopped because it exceeded MaxRuntimeInSeconds",
}


class JobNotFound(LocalTargetError):
    """No job of that kind and name."""


class JobExists(LocalTargetError):
    """A job of that kind and name exists already (ResourceInUse)."""


class JobNotRunning(LocalTargetError):
    """Stop of a job that has ended."""


@dataclass
class _Live:
    """A job running in this process."""

    stop: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    timed_out: bool = False
    env: dict = field(default_factory=dict)  # what its processes get beyond the runner's


class JobRunner:
    """Starts, stops and waits for the jobs of one state folder and region, in this process."""

    def __init__(
        self,
        home: Path,
        region: str,
        account: str,
        store: ObjectStore,
        sources: DataSources,
        models: ModelStore,
    ):
        self.home = Path(home)
        self.region, self.account = region, account
        self.store, self.sources, self.models = store, sources, models
        self.records = JobStore(self.home / "state.sqlite")
        self._live: dict[tuple[str, str], _Live] = {}
        # Final outcomes of jobs whose records could not be written (a full disk), kept here.
        self.unrecorded: dict[tuple[str, str], tuple] = {}

    # the API
    def kind(self, kind: str) -> JobKind:
        """The job kind as this runner runs it (a tuning job's trials are this runner's jobs)."""
        job_kind = KINDS[kind]
        bind = getattr(job_kind, "bind", None)
        return bind(self) if bind else job_kind

    def start(
        self,
        kind: str,
        request: dict,
        work_dir: Optional[Path] = None,
        env: Optional[dict] = None,
    ) -> JobRecord:
        """Check and record a job, start it, return its record (InProgress).

        ``env`` is added to its processes' environment (a tuning trial's share of the cores).
        """
        job_kind = self.kind(kind)
        request = job_kind.normalise(dict(request))
        name = request.get(f"{kind}JobName")
        problem = name_problem(name, request_member(f"Create{kind}Job", f"{kind}JobName"))
        if problem:  # the job's folder is named after it
            raise JobRequestError(f"{kind}JobName {problem}")
        job_kind.validate(request, self.models)
        tags = request.pop("Tags", None) or []
        arn = config.arn(self.region, self.account, job_kind.resource, name)
        record = JobRecord(
            kind=kind,
            name=name,
            arn=arn,
            region=self.region,
            request=request,
            work_dir=Path(work_dir) if work_dir else self.home / "jobs" / name,
            tags=tags,
        )
        live = _Live(env=dict(env or {}))
        self._live[(kind, name.lower())] = live
        if not self.records.create(record):
            del self._live[(kind, name.lower())]
            raise JobExists(
                "Job name must be unique within an AWS account and region, and a job with "
                f"this name already exists ({arn})"
            )
        if kind == "Training":
            self.records.advance(kind, name, "Starting", MESSAGES["Starting"])
        threading.Thread(
            target=self._run, args=(job_kind, record, live), name=f"job-{name}"
        ).start()
        return record

    def get(self, kind: str, name: str) -> JobRecord:
        record = self.records.get(kind, name)
        if record is None:
            raise JobNotFound(f"Could not find requested job with name {name}")
        if (kind, name.lower()) in self.unrecorded:
            status, reason, failure_kind = self.unrecorded[(kind, name.lower())]
            record = replace(
                record, status=status, failure_reason=reason, failure_kind=failure_kind
            )
        return record

    def describe(self, kind: str, name: str) -> dict:
        return self.kind(kind).describe(self.get(kind, name))

    def stop(self, kind: str, name: str) -> None:
        """Ask a running job to stop: Stopping now, Stopped once its process has ended."""
        record = self.get(kind, name)
        if not self.records.request_stop(kind, record.name):
            if record.status == "Stopping":
                return
            raise JobNotRunning(f"The job {record.name} is {record.status} and cannot be stopped.")
        if kind == "Training":
            self.records.advance(kind, record.name, "Stopping", MESSAGES["Stopping"])
        live = self._live.get((kind, record.name.lower()))
        if live is not None:
            live.stop.set()

    def wait(self, kind: str, name: str, stop: Optional[threading.Event] = None) -> JobRecord:
        """Block until the job ends; setting ``stop`` meanwhile stops the job."""
        live = self._live.get((kind, name.lower()))
        asked = False
        while True:
            if live is not None:
                if live.done.wait(WAIT_SECONDS):
                    return self.get(kind, name)
            else:  # running in another process: its record says when it ends
                record = self.get(kind, name)
                if record.status in FINAL:
                    return record
                time.sleep(WATCH_SECONDS)
            if stop is not None and stop.is_set() and not asked:
                asked = True
                try:
                    self.stop(kind, name)
                except JobNotRunning:
                    pass

    # running
    def _run(self, job_kind: JobKind, record: JobRecord, live: _Live) -> None:
        kind, name = record.kind, record.name
        ctx = JobContext(
            name=name,
            arn=record.arn,
            request=record.request,
            work_dir=record.work_dir,
            store=self.store,
            sources=self.sources,
            models=self.models,
            stop=live.stop,
            env={**self._environment(), **live.env},
            progress=lambda status, message: self.records.advance(kind, name, status, message),
        )
        ctx.logs.mkdir(parents=True, exist_ok=True)
        self.records.started(kind, name)
        watcher = threading.Thread(
            target=self._watch, args=(record, live), name=f"job-watch-{name}", daemon=True
        )
        watcher.start()
        agent = LogAgent(ctx.logs).start()
        status, reason, failure_kind = "Completed", None, None
        try:
            self._attempts(job_kind, ctx)
        except ExecutionStopped:
            status = "Stopped"
        except (JobRequestError, UserDataError) as err:  # the request's or its data's fault
            status, reason = "Failed", f"ClientError: {err}"
        except StepFailed as err:
            status, reason, failure_kind = "Failed", str(err), err.kind
        except Exception as err:  # the local target's own fault: say so, keep the trace
            status, failure_kind = "Failed", retries.SERVICE_FAULT
            storage = faults.describe(err)
            if storage:  # a full disk stays full: not retried
                reason, failure_kind = (
                    f"InternalError: the local target could not write: {storage}",
                    None,
                )
            else:
                log_file = faults.write_quietly(
                    ctx.work_dir / "job-error.log", traceback.format_exc()
                )
                where = f" (details in {log_file})" if log_file else ""
                reason = f"InternalError: {type(err).__name__}: {err}{where}"
        finally:
            agent.close()
        try:
            self._finish(kind, name, job_kind, ctx, live, status, reason, failure_kind)
        except Exception as err:  # the record cannot be written (disk full): the job still ends
            self.unrecorded[(kind, name.lower())] = (status, reason, failure_kind)
            log.info("job %s ended %s; this could not be recorded: %s", name, status, err)
        finally:
            live.done.set()

    def _finish(self, kind, name, job_kind, ctx, live, status, reason, failure_kind) -> None:
        """Record how the job ended: its secondary status, its lineage, its record."""
        if status == "Stopped" and live.timed_out:
            ctx.result.setdefault("ExitMessage", MESSAGES["MaxRuntimeExceeded"])
        if kind == "Training":
            secondary = "MaxRuntimeExceeded" if live.timed_out else status
            self.records.advance(kind, name, secondary, MESSAGES[secondary])
        if getattr(job_kind, "lineage", True):
            lineage.record_job(self.home, self.records.get(kind, name), status, ctx.result, reason)
        self.records.finish(
            kind,
            name,
            status,
            result=ctx.result,
            failure_reason=reason,
            failure_kind=failure_kind,
        )

    @staticmethod
    def _attempts(job_kind: JobKind, ctx: JobContext) -> None:
        """Run the job; again, as its RetryStrategy says, when its process was killed."""
        retry = (ctx.request.get("RetryStrategy") or {}).get("MaximumRetryAttempts") or 0
        attempt = 1
        while True:
            try:
                return job_kind.run(ctx)
            except StepFailed as err:
                if err.kind != retries.JOB_INTERNAL_ERROR or attempt > int(retry):
                    raise
                log.info("job %s: attempt %d failed (%s); retrying", ctx.name, attempt, err)
                attempt += 1

    def _watch(self, record: JobRecord, live: _Live) -> None:
        """Stop the job when another process asks, or when it outlives MaxRuntimeInSeconds."""
        limit = (record.request.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        deadline = time.monotonic() + float(limit) if limit else None
        while not live.done.wait(WATCH_SECONDS):
            if live.stop.is_set():
                continue
            if deadline is not None and time.monotonic() >= deadline:
                live.timed_out = True
                self.records.request_stop(record.kind, record.name)
                live.stop.set()
            elif self.records.stop_requested(record.kind, record.name):
                live.stop.set()

    def _environment(self) -> dict:
        """Every process of a job talks to this local target, whatever the caller's setting now."""
        return {
            config.TARGET_ENV: "local",
            config.HOME_ENV: str(self.home),
            "AWS_DEFAULT_REGION": self.region,
        }
