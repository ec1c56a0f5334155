"""Tuning steps: the step creates a hyperparameter tuning job, as SageMaker's orchestrator does.

Its properties are the job's ``DescribeHyperParameterTuningJob`` plus ``TrainingJobSummaries``
(the best trials, best first), so ``get_top_model_s3_uri(k, ...)`` reads the k-th best trial's
name and resolves to the model that trial wrote.
"""

from __future__ import annotations

import re

from smlocal.definition import StepSpec
from smlocal.errors import ExecutionStopped, StepFailed
from smlocal.jobs import JobRequestError
from smlocal.jobs.tuning import KIND
from smlocal.steps.base import StepContext, StepOutcome, random_suffix, validate_job

NAME_LIMIT = 32  # HyperParameterTuningJobName's maximum length


def tuning_job_name(ctx: StepContext) -> str:
    """``<execution id>-<step>-<suffix>``, within the 32 characters a tuning job name has."""
    step = re.sub(r"[^A-Za-z0-9]+", "-", ctx.step.name).strip("-")[:8].strip("-")
    return "-".join(p for p in (ctx.execution_id, step, random_suffix(10)) if p)[:NAME_LIMIT]


class TuningExecutor:
    def validate(self, step: StepSpec) -> None:
        validate_job(step, KIND)

    def run(self, ctx: StepContext) -> StepOutcome:
        runner = ctx.services.jobs
        request = {**ctx.arguments, "HyperParameterTuningJobName": tuning_job_name(ctx)}
        try:
            record = runner.start(KIND, request, work_dir=ctx.job_dir)
        except JobRequestError as err:
            raise StepFailed(f"ClientError: {err}") from None
        record = runner.wait(KIND, record.name, stop=ctx.stop)
        metadata = {"TuningJob": {"Arn": record.arn}}
        if record.status == "Stopped" and ctx.stop.is_set():
            raise ExecutionStopped("the execution was stopped")
        if record.status != "Completed":
            failure = StepFailed(
                record.failure_reason or f"tuning job {record.name} ended {record.status}",
                kind=record.failure_kind,
            )
            failure.metadata = metadata
            raise failure
        kind = runner.kind(KIND)
        properties = {**kind.describe(record), "TrainingJobSummaries": kind.top(record)}
        return StepOutcome(properties, metadata)
