"""Errors of the local target, each meaning one thing to the caller."""


class LocalTargetError(Exception):
    """Base of the local target's errors."""


class DefinitionError(LocalTargetError):
    """The definition cannot run here: malformed, or uses something not supported (named)."""


class ParameterError(LocalTargetError):
    """A start-time parameter override is unknown or of the wrong type."""


class StepFailed(LocalTargetError):
    """A step ended in failure; the message is the step's FailureReason."""


class ExecutionStopped(LocalTargetError):
    """The execution was asked to stop while the step ran."""
