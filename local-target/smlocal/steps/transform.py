"""Transform steps: the step creates a transform job, as SageMaker's orchestrator does."""

from __future__ import annotations

from smlocal.definition import StepSpec
from smlocal.steps.base import StepContext, StepOutcome, run_job, validate_job


class TransformExecutor:
    def validate(self, step: StepSpec) -> None:
        validate_job(step, "Transform")

    def run(self, ctx: StepContext) -> StepOutcome:
        return run_job(ctx, "Transform")
