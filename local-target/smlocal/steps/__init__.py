"""Step executors, one per step type: the engine dispatches on the definition's ``Type``.

A new step type plugs in by adding an entry here.
"""

from smlocal.steps.base import StepContext, StepExecutor, StepOutcome
from smlocal.steps.callback import CallbackExecutor
from smlocal.steps.condition import ConditionExecutor
from smlocal.steps.fail import FailExecutor
from smlocal.steps.lambda_ import LambdaExecutor
from smlocal.steps.model import ModelExecutor
from smlocal.steps.processing import ProcessingExecutor
from smlocal.steps.register import RegisterModelExecutor
from smlocal.steps.training import TrainingExecutor
from smlocal.steps.transform import TransformExecutor
from smlocal.steps.tuning import TuningExecutor

EXECUTORS: dict[str, StepExecutor] = {
    "Processing": ProcessingExecutor(),
    "Training": TrainingExecutor(),
    "Condition": ConditionExecutor(),
    "RegisterModel": RegisterModelExecutor(),
    "Fail": FailExecutor(),
    "Model": ModelExecutor(),
    "Transform": TransformExecutor(),
    "Tuning": TuningExecutor(),
    "Lambda": LambdaExecutor(),
    "Callback": CallbackExecutor(),
}

__all__ = ["EXECUTORS", "StepContext", "StepExecutor", "StepOutcome"]
