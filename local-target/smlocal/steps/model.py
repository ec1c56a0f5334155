"""CreateModel steps (type ``Model``): a local model record that Transform steps run."""

from __future__ import annotations

from datetime import datetime, timezone

from smlocal.definition import StepSpec
from smlocal.errors import DefinitionError
from smlocal.steps.base import StepContext, StepOutcome


class ModelExecutor:
    def validate(self, step: StepSpec) -> None:
        args = step.arguments
        if not args.get("PrimaryContainer") and not args.get("Containers"):
            raise DefinitionError(
                f"step {step.name!r}: a model needs PrimaryContainer or Containers"
            )
        if len(args.get("Containers") or []) > 1:
            raise DefinitionError(
                f"step {step.name!r}: multi-container models (inference pipelines) are not supported locally"
            )

    def run(self, ctx: StepContext) -> StepOutcome:
        request = dict(ctx.arguments)
        if "PrimaryContainer" not in request:
            request["PrimaryContainer"] = request.pop("Containers")[0]
        name = ctx.job_name()
        model = ctx.services.models.create(name, request)
        model["CreationTime"] = datetime.now(timezone.utc).isoformat()
        return StepOutcome(model, {"Model": {"Arn": model["ModelArn"]}})
