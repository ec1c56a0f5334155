"""SageMaker Runtime: InvokeEndpoint answered by the endpoint's model server on 127.0.0.1.

The request goes over HTTP to the server, as SageMaker's front end sends it to the container:
``POST /invocations`` with the body, ``Content-Type``, ``Accept`` and custom attributes. An
error status from the server is InvokeEndpoint's ``ModelError`` (424) with the server's status
and message, as on SageMaker.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from botocore.response import StreamingBody

from smlocal import config, endpoints
from smlocal.endpoints import EndpointNotFound, EndpointNotServing, ModelError
from smlocal.services.base import Service, ServiceError

# Options that route or explain a request differently from what one local server does.
UNSUPPORTED = (
    "TargetModel",
    "TargetContainerHostname",
    "InferenceComponentName",
    "EnableExplanations",
    "SessionId",
)


class _ModeledError(ServiceError):
    """An error whose modeled fields botocore puts beside ``Error`` (ModelError's status, message)."""

    def response(self) -> dict:
        return {"Error": {"Code": self.code, "Message": self.message}, **self.extra}


def _bytes(body: Any) -> bytes:
    if hasattr(body, "read"):
        body = body.read()
    return body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")


class RuntimeService(Service):
    name = "sagemaker-runtime"

    def __init__(self, home: Path, region: str = config.DEFAULT_REGION):
        self.endpoints = endpoints.manager_for(home, region)

    def invoke_endpoint(self, **kwargs) -> dict:
        for key in UNSUPPORTED:
            if kwargs.get(key) not in (None, ""):
                raise ServiceError(
                    "ValidationError", f"{key} is not supported locally (one model per endpoint)"
                )
        try:
            answer = self.endpoints.invoke(
                kwargs["EndpointName"],
                _bytes(kwargs.get("Body")),
                kwargs.get("ContentType"),
                kwargs.get("Accept"),
                kwargs.get("CustomAttributes"),
            )
        except (EndpointNotFound, EndpointNotServing) as err:
            raise ServiceError("ValidationError", str(err)) from None
        except ModelError as err:
            raise _ModeledError(
                "ModelError",
                str(err),
                status=424,
                extra={
                    "OriginalStatusCode": err.status,
                    "OriginalMessage": err.body,
                    "LogStreamArn": err.log_stream,
                },
            ) from None
        response = {
            "Body": StreamingBody(io.BytesIO(answer.body), len(answer.body)),
            "ContentType": answer.content_type,
            "InvokedProductionVariant": answer.variant,
        }
        if answer.custom_attributes:
            response["CustomAttributes"] = answer.custom_attributes
        return response
