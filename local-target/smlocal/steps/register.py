"""RegisterModel steps: a new version in the local model registry."""

from __future__ import annotations

from smlocal.definition import StepSpec
from smlocal.errors import DefinitionError, StepFailed
from smlocal.registry import RegistryError
from smlocal.steps.base import StepContext, StepOutcome


class RegisterModelExecutor:
    def validate(self, step: StepSpec) -> None:
        if not step.arguments.get("ModelPackageGroupName"):
            raise DefinitionError(
                f"step {step.name!r}: only versioned registration (ModelPackageGroupName) is supported locally"
            )

    def run(self, ctx: StepContext) -> StepOutcome:
        request = dict(ctx.arguments)
        request.pop("SkipModelValidation", None)
        try:
            package = ctx.services.registry.create_model_package(
                request, created_by_execution=ctx.execution_arn, create_group=True
            )
        except RegistryError as err:
            raise StepFailed(f"ClientError: {err}") from None
        return StepOutcome(package, {"RegisterModel": {"Arn": package["ModelPackageArn"]}})
