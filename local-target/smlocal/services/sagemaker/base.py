"""What the SageMaker API's parts share: SageMaker's error codes for the backend's errors."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from smlocal.backend import Conflict, NotFound
from smlocal.errors import LocalTargetError, StateError
from smlocal.jobs import JobExists
from smlocal.registry import RegistryError
from smlocal.services.base import ServiceError
from smlocal.store import StoreError


def _operation(name: str) -> Callable:
    """Map the backend's errors to SageMaker's error codes (botocore validated the request)."""

    def decorate(func: Callable) -> Callable:
        def method(self, **kwargs):
            try:
                return func(self, **kwargs)
            except NotFound as err:
                raise ServiceError("ResourceNotFound", str(err)) from None
            except JobExists as err:
                raise ServiceError("ResourceInUse", str(err)) from None
            except RegistryError as err:
                raise ServiceError(err.code, str(err)) from None
            except StateError:
                raise  # the state folder is the user's to fix, not the request
            except (Conflict, LocalTargetError, StoreError) as err:
                raise ServiceError("ValidationException", str(err)) from None

        method.__name__ = func.__name__
        method.__doc__ = func.__doc__
        return method

    return decorate


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)
