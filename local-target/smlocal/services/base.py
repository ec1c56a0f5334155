"""What every local service shares: its errors, and dispatch by operation name."""

from __future__ import annotations

from typing import Any, Optional

from botocore import xform_name


class ServiceError(Exception):
    """An error response: botocore raises it as the service's modeled exception for ``code``."""

    def __init__(self, code: str, message: str, status: int = 400, extra: Optional[dict] = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}

    def response(self) -> dict[str, Any]:
        return {"Error": {"Code": self.code, "Message": self.message, **self.extra}}


def unsupported(service: str, operation: str) -> ServiceError:
    return ServiceError(
        "UnsupportedOperation",
        f"the local target does not serve {service}:{operation}; no request left this machine "
        "(turn the local target off to call AWS)",
        status=400,
    )


class Service:
    """A service answers operations by methods named as boto3 names them (``put_object``)."""

    name = ""

    def call(self, operation: str, params: dict) -> dict:
        name = xform_name(operation)
        method = getattr(self, name, None)
        if method is None or name.startswith("_") or hasattr(Service, name):
            raise unsupported(self.name, operation)
        return method(**params)
