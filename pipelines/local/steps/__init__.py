"""Step executors, one per step type: the engine dispatches on the definition's ``Type``.

A new step type plugs in by adding an entry here.
"""

from pipelines.local.steps.base import StepContext, StepExecutor, StepOutcome
from pipelines.local.steps.condition import ConditionExecutor
from pipelines.local.steps.fail import FailExecutor
from pipelines.local.steps.model import ModelExecutor
from pipelines.local.steps.processing import ProcessingExecutor
from pipelines.local.steps.register import RegisterModelExecutor
from pipelines.local.steps.training import TrainingExecutor
from pipelines.local.steps.transform import TransformExecutor

EXECUTORS: dict[str, StepExecutor] = {
    "Processing": ProcessingExecutor(),
    "Training": TrainingExecutor(),
    "Condition": ConditionExecutor(),
    "RegisterModel": RegisterModelExecutor(),
    "Fail": FailExecutor(),
    "Model": ModelExecutor(),
    "Transform": TransformExecutor(),
}

__all__ = ["EXECUTORS", "StepContext", "StepExecutor", "StepOutcome"]
