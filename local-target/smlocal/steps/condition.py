"""Condition steps: every condition must hold for the IfSteps to run."""

from __future__ import annotations

from smlocal.definition import StepSpec
from smlocal.errors import DefinitionError
from smlocal.expressions import CONDITION_TYPES, check_condition
from smlocal.steps.base import StepContext, StepOutcome


def _types(condition: dict):
    yield condition.get("Type")
    if condition.get("Type") == "Not":
        yield from _types(condition.get("Condition") or {})
    for inner in condition.get("Conditions") or []:
        yield from _types(inner)


class ConditionExecutor:
    def validate(self, step: StepSpec) -> None:
        for condition in step.arguments.get("Conditions") or []:
            for ctype in _types(condition):
                if ctype not in CONDITION_TYPES:
                    raise DefinitionError(
                        f"step {step.name!r}: condition type {ctype!r} is not supported "
                        f"(supported: {', '.join(CONDITION_TYPES)})"
                    )

    def run(self, ctx: StepContext) -> StepOutcome:
        outcome = all(check_condition(c) for c in ctx.arguments.get("Conditions") or [])
        text = "True" if outcome else "False"
        return StepOutcome({"Outcome": text}, {"Condition": {"Outcome": text}}, outcome=outcome)
