"""Errors of the local target, each meaning one thing to the caller."""

from __future__ import annotations


class LocalTargetError(Exception):
    """Base of the local target's errors."""


class DefinitionError(LocalTargetError):
    """The definition cannot run here: malformed, or uses something not supported (named)."""


class UserDataError(LocalTargetError):
    """The user's data or code cannot be used as given (a bad key, an archive leading out).

    SageMaker's ``ClientError``: the step fails and no RetryPolicy retries it, unlike the
    local target's own faults (``Step.SERVICE_FAULT``).
    """


class ParameterError(LocalTargetError):
    """A start-time parameter override is unknown or of the wrong type."""


class StepFailed(LocalTargetError):
    """A step ended in failure; the message is the step's FailureReason.

    ``kind`` is the SageMaker exception type a RetryPolicy may name (None: not retryable).
    """

    def __init__(self, message: str, kind: str | None = None):
        super().__init__(message)
        self.kind = kind


class ExecutionStopped(LocalTargetError):
    """The execution was asked to stop while the step ran."""


class StateError(LocalTargetError):
    """The state folder cannot be used as it is (named, with what is wrong and what to do)."""
