"""Fail steps: end the execution as Failed with the step's message."""

from __future__ import annotations

from smlocal.definition import StepSpec
from smlocal.errors import StepFailed
from smlocal.expressions import to_text
from smlocal.steps.base import StepContext, StepOutcome


class FailExecutor:
    def validate(self, step: StepSpec) -> None:
        return None

    def run(self, ctx: StepContext) -> StepOutcome:
        message = to_text(ctx.arguments.get("ErrorMessage", ""))
        failure = StepFailed(message)
        failure.metadata = {"Fail": {"ErrorMessage": message}}
        raise failure
