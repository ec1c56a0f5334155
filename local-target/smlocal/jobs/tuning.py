"""Hyperparameter tuning jobs: a search whose trials are training jobs of the same runner.

The job proposes hyperparameters with its strategy (``search``), starts each trial with
``CreateTrainingJob``'s path (so a trial is described, listed, logged and stopped as any
training job is), keeps ``MaxParallelTrainingJobs`` of them running at once (bounded by this
machine's cores; each trial's threads by its share of them, ``OMP_NUM_THREADS``), reads each
trial's objective from its ``FinalMetricDataList`` and tells the strategy. It ends when
``MaxNumberOfTrainingJobs`` have run, the grid is done, or a completion criterion holds; it is
Stopped when asked or when ``MaxRuntimeInSeconds`` passes. Warm start: the parents' trials
are the Bayesian search's prior observations, and the best of them all is
``OverallBestTrainingJob``.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Optional

from smlocal.definition import iter_functions
from smlocal.errors import ExecutionStopped, StepFailed
from smlocal.jobs import search, trials
from smlocal.jobs.base import JobContext, common_fields, refuse, refuse_present, shaped, strings
from smlocal.jobs.records import JobRecord
from smlocal.jobs.training import BUILTIN_METRIC_DEFINITIONS, XGBOOST_IMAGE, TrainingJobKind
from smlocal.models import ModelStore

KIND = "HyperParameterTuning"
MAX_PARENTS = 5
TOP_JOBS = 50  # TrainingJobSummaries of a pipeline's tuning step: the best 50, best first
WAIT_SECONDS = 0.25


def plain(value: Any) -> bool:
    """True when a value holds no pipeline expression (a step's arguments may)."""
    return next(iter_functions(value), None) is None


def trial_name(tuning_name: str, index: int) -> str:
    """Trials are named as SageMaker names them: ``<tuning job>-<NNN>-<8 hex>``."""
    return f"{tuning_name}-{index:03d}-{secrets.token_hex(4)}"


def metric_names(request: dict) -> Optional[list[str]]:
    """The metrics a trial emits: its MetricDefinitions, or the built-in algorithm's."""
    algorithm = trials.definition(request).get("AlgorithmSpecification") or {}
    image = algorithm.get("TrainingImage")
    if not plain(algorithm):
        return None
    names = [d.get("Name") for d in algorithm.get("MetricDefinitions") or []]
    if not names and isinstance(image, str) and XGBOOST_IMAGE.search(image):
        names = [d["Name"] for d in BUILTIN_METRIC_DEFINITIONS]
    return names


class TuningJobKind:
    """``CreateHyperParameterTuningJob`` and its Describe; bound to a runner to run trials."""

    kind = KIND
    resource = "hyper-parameter-tuning-job"
    lineage = False  # SageMaker tracks its training jobs, not the tuning job itself

    def __init__(self, runner: Any = None):
        self.runner = runner

    def bind(self, runner: Any) -> "TuningJobKind":
        """This kind for one job runner: trials are its training jobs."""
        return TuningJobKind(runner)

    # checks
    def normalise(self, request: dict) -> dict:
        spec = request.get("TrainingJobDefinition")
        if spec and "StaticHyperParameters" in spec:
            request["TrainingJobDefinition"] = {
                **spec,
                "StaticHyperParameters": strings(spec["StaticHyperParameters"]),
            }
        return request

    def validate(self, request: dict, models: Optional[ModelStore] = None) -> None:
        """Refuse, by name, what the local search cannot do; ``request`` may hold expressions."""
        config = trials.config(request)
        if config.get("Strategy") == "Hyperband":
            refuse(
                "The Hyperband strategy is not supported locally (it stops trials early from "
                "the metrics they emit while training); use Bayesian, Random or Grid"
            )
        refuse_present(
            request, ("TrainingJobDefinitions",), "multi-algorithm tuning: give one definition"
        )
        refuse_present(request, ("Autotune",), "SageMaker chooses the strategy and ranges")
        if "TrainingJobDefinition" not in request:
            refuse("TrainingJobDefinition is required")
        if config.get("TrainingJobEarlyStoppingType", "Off") == "Auto":
            refuse(
                "TrainingJobEarlyStoppingType 'Auto' is not supported locally "
                "(training jobs are not stopped early); use 'Off'"
            )
        criteria = config.get("TuningJobCompletionCriteria") or {}
        if (criteria.get("ConvergenceDetected") or {}).get("CompleteOnConvergence") == "Enabled":
            refuse("TuningJobCompletionCriteria ConvergenceDetected is not supported locally")
        self._validate_search(request)
        self._validate_objective(request)
        TrainingJobKind().validate(
            trials.trial_request(request, "", "trial", {}), models
        )  # every trial's training job, refused now rather than at each trial
        if self.runner is not None and request.get("WarmStartConfig"):
            self._validate_parents(request)

    @staticmethod
    def _validate_search(request: dict) -> None:
        raw = trials.ranges(request)
        if not plain(raw):
            return
        try:
            ranges = search.parse_ranges(raw)
            if trials.config(request).get("Strategy") == "Grid":
                search.GridSearch(ranges)
        except search.SearchError as err:
            refuse(str(err))
        both = sorted(set(trials.static(request)) & {r.name for r in ranges})
        if both:
            refuse(f"Hyperparameters {both} are both static and tuned")
        limits = trials.config(request).get("ResourceLimits") or {}
        if trials.config(request).get("Strategy") != "Grid" and not limits.get(
            "MaxNumberOfTrainingJobs"
        ):
            refuse("ResourceLimits MaxNumberOfTrainingJobs is required for this strategy")

    @staticmethod
    def _validate_objective(request: dict) -> None:
        goal = trials.objective(request)
        if not goal:
            refuse("The tuning job needs an objective (HyperParameterTuningJobObjective)")
        metric, names = goal.get("MetricName"), metric_names(request)
        if isinstance(metric, str) and names is not None and metric not in names:
            known = ", ".join(n for n in names if n) or "none"
            refuse(
                f"The objective metric {metric!r} is not a metric the training jobs emit: give "
                f"its MetricDefinitions (Name and Regex) in AlgorithmSpecification "
                f"(known: {known})"
            )

    def _validate_parents(self, request: dict) -> None:
        """Warm start: parents that exist, have ended, and share the objective (and data)."""
        warm = request["WarmStartConfig"]
        names = [p["HyperParameterTuningJobName"] for p in warm["ParentHyperParameterTuningJobs"]]
        if len(names) > MAX_PARENTS:
            refuse(f"A warm start tuning job can have at most {MAX_PARENTS} parent jobs")
        for name in names:
            parent = self.runner.records.get(KIND, name)
            if parent is None:
                refuse(f"Parent hyperparameter tuning job {name} does not exist")
            if parent.active:
                refuse(f"Parent hyperparameter tuning job {name} is {parent.status}")
            mine, theirs = trials.objective(request), trials.objective(parent.request)
            if mine != theirs:
                refuse(
                    f"The objective of a warm start tuning job must be its parents' "
                    f"({theirs} in {name})"
                )
            count = len(trials.static(request)) + len(trials.tuned_names(request))
            parent_count = len(trials.static(parent.request)) + len(
                trials.tuned_names(parent.request)
            )
            if count != parent_count:
                refuse(
                    "The number of static plus tuned hyperparameters must be the parents' "
                    f"({parent_count} in {name}, {count} here)"
                )
            if warm["WarmStartType"] == "IdenticalDataAndAlgorithm":
                for key in ("AlgorithmSpecification", "InputDataConfig"):
                    mine_value = trials.definition(request).get(key)
                    theirs_value = trials.definition(parent.request).get(key)
                    if key == "AlgorithmSpecification":
                        mine_value = (mine_value or {}).get("TrainingImage")
                        theirs_value = (theirs_value or {}).get("TrainingImage")
                    if mine_value != theirs_value:
                        refuse(
                            f"IdenticalDataAndAlgorithm warm start needs the parents' {key} "
                            f"(it differs from {name}'s); use TransferLearning"
                        )

    # running
    def run(self, ctx: JobContext) -> None:
        request, runner = ctx.request, self.runner
        config = trials.config(request)
        limits = config.get("ResourceLimits") or {}
        goal = trials.objective(request)
        maximize, metric = goal["Type"] == "Maximize", goal["MetricName"]
        ranges = search.parse_ranges(trials.ranges(request))
        max_jobs = int(limits.get("MaxNumberOfTrainingJobs") or search.grid_size(ranges))
        if config["Strategy"] == "Grid":
            max_jobs = min(max_jobs, search.grid_size(ranges))
        searcher = search.strategy(
            config["Strategy"],
            ranges,
            maximize=maximize,
            seed=config.get("RandomSeed"),
            max_jobs=max_jobs,
            prior=tuple(self._prior(request)),
        )
        cores = os.cpu_count() or 1
        parallel = max(1, min(int(limits["MaxParallelTrainingJobs"]), cores))
        share = {"OMP_NUM_THREADS": str(max(1, cores // parallel))}  # as if on its own instance
        started = time.monotonic()
        limit = limits.get("MaxRuntimeInSeconds")
        deadline = started + float(limit) if limit else None
        criteria = config.get("TuningJobCompletionCriteria") or {}
        target = criteria.get("TargetObjectiveMetricValue")
        patience = (criteria.get("BestObjectiveNotImproving") or {}).get(
            "MaxNumberOfTrainingJobsNotImproving"
        )
        stop_trials = threading.Event()
        running: dict[Future, tuple[str, dict]] = {}
        launched, best, not_improving, complete = 0, None, 0, False
        with ThreadPoolExecutor(
            max_workers=parallel, thread_name_prefix=f"tune-{ctx.name}"
        ) as pool:
            try:
                while True:
                    if ctx.stop.is_set() or (deadline and time.monotonic() >= deadline):
                        stop_trials.set()
                    while (
                        not stop_trials.is_set()
                        and not complete
                        and len(running) < parallel
                        and launched < max_jobs
                    ):
                        tuned = searcher.ask()
                        if tuned is None:
                            complete = True
                            break
                        launched += 1
                        name = trial_name(ctx.name, launched)
                        runner.start(
                            "Training",
                            trials.trial_request(request, ctx.arn, name, tuned),
                            work_dir=ctx.work_dir / "trials" / name,
                            env=share,
                        )
                        future = pool.submit(runner.wait, "Training", name, stop_trials)
                        running[future] = (name, tuned)
                    if not running:
                        break
                    finished, _ = wait(list(running), WAIT_SECONDS, return_when=FIRST_COMPLETED)
                    for future in finished:
                        _, tuned = running.pop(future)
                        value = trials.objective_value(future.result(), metric)
                        searcher.tell(tuned, value)
                        if value is None:
                            continue
                        if trials.is_better(value, best, maximize):
                            best, not_improving = value, 0
                        else:
                            not_improving += 1
                        if target is not None and not trials.is_better(
                            float(target), best, maximize
                        ):
                            complete = True  # the target is reached: launch no more
                        if patience and not_improving >= int(patience):
                            complete = True
            finally:
                if running:  # an error of ours: leave no trial behind
                    stop_trials.set()
        ctx.result.update(
            TuningJobCompletionDetails={"NumberOfTrainingJobsObjectiveNotImproving": not_improving},
            ConsumedResources={"RuntimeInSeconds": int(time.monotonic() - started)},
        )
        if stop_trials.is_set():
            raise ExecutionStopped("the tuning job was stopped")
        self._check_outcome(ctx, metric)

    def _check_outcome(self, ctx: JobContext, metric: str) -> None:
        """A tuning job none of whose trials gave an objective value has failed."""
        runs = self.trials_of(ctx.arn)
        if any(trials.objective_value(t, metric) is not None for t in runs):
            return
        failed = [t for t in runs if t.status == "Failed"]
        if failed and len(failed) == len(runs):
            raise StepFailed(
                f"All training jobs failed. The first failure ({failed[0].name}): "
                f"{failed[0].failure_reason}"
            )
        raise StepFailed(
            f"No training job reported the objective metric {metric!r}; check its "
            "MetricDefinitions regex against the training jobs' logs"
        )

    def _prior(self, request: dict):
        """Warm start: every parent trial with an objective value, as an observation."""
        warm = request.get("WarmStartConfig") or {}
        for parent_ref in warm.get("ParentHyperParameterTuningJobs") or []:
            parent = self.runner.records.get(KIND, parent_ref["HyperParameterTuningJobName"])
            if parent is None:
                continue
            metric = (trials.objective(parent.request) or {}).get("MetricName")
            for trial in self.trials_of(parent.arn):
                value = trials.objective_value(trial, metric)
                if value is not None:
                    params = trial.request.get("HyperParameters") or {}
                    yield search.Observation(dict(params), value)

    # reporting
    def trials_of(self, tuning_arn: str) -> list[JobRecord]:
        """The tuning job's training jobs, oldest first."""
        return [
            t
            for t in self.runner.records.list("Training")
            if t.request.get("TuningJobArn") == tuning_arn
        ]

    def summaries(self, record: JobRecord) -> list[dict]:
        return [trials.summary(t, record.request, record.name) for t in self.trials_of(record.arn)]

    def top(self, record: JobRecord, count: int = TOP_JOBS) -> list[dict]:
        """The best trials, best first: a pipeline tuning step's ``TrainingJobSummaries``."""
        maximize = (trials.objective(record.request) or {}).get("Type") == "Maximize"
        return trials.ranked(self.summaries(record), maximize)[:count]

    def _overall_best(self, record: JobRecord, seen: set) -> list[dict]:
        """This job's scored trials and its warm start ancestors'."""
        seen.add(record.name.lower())
        found = self.top(record, count=1)
        warm = record.request.get("WarmStartConfig") or {}
        for ref in warm.get("ParentHyperParameterTuningJobs") or []:
            parent = self.runner.records.get(KIND, ref["HyperParameterTuningJobName"])
            if parent is not None and parent.name.lower() not in seen:
                found += self._overall_best(parent, seen)
        return found

    def describe(self, record: JobRecord) -> dict:
        summaries = self.summaries(record)
        goal = trials.objective(record.request) or {}
        maximize = goal.get("Type") == "Maximize"
        status, objectives = trials.counters(
            self.trials_of(record.arn), goal.get("MetricName") or ""
        )
        request = record.request
        config = {"TrainingJobEarlyStoppingType": "Off", **trials.config(request)}
        fields = {
            **common_fields(record),
            "HyperParameterTuningJobConfig": config,
            "TrainingJobStatusCounters": status,
            "ObjectiveStatusCounters": objectives,
        }
        best = trials.ranked(summaries, maximize)
        if best:
            fields["BestTrainingJob"] = best[0]
        if request.get("WarmStartConfig"):
            overall = trials.ranked(self._overall_best(record, set()), maximize)
            if overall:
                fields["OverallBestTrainingJob"] = overall[0]
        return shaped(fields, operation="DescribeHyperParameterTuningJob")

    def summary(self, record: JobRecord) -> dict:
        goal = trials.objective(record.request) or {}
        status, objectives = trials.counters(
            self.trials_of(record.arn), goal.get("MetricName") or ""
        )
        return shaped(
            {
                **common_fields(record),
                "Strategy": trials.config(record.request).get("Strategy"),
                "ResourceLimits": trials.config(record.request).get("ResourceLimits"),
                "TrainingJobStatusCounters": status,
                "ObjectiveStatusCounters": objectives,
            },
            shape="HyperParameterTuningJobSummary",
        )


__all__ = ["KIND", "TuningJobKind", "trial_name"]
