"""Processing steps: the step creates a processing job, as SageMaker's orchestrator does."""

from __future__ import annotations

from smlocal.definition import StepSpec
from smlocal.steps.base import StepContext, StepOutcome, run_job, validate_job


class ProcessingExecutor:
    def validate(self, step: StepSpec) -> None:
        validate_job(step, "Processing")

    def run(self, ctx: StepContext) -> StepOutcome:
        return run_job(ctx, "Processing")
