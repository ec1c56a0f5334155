"""The boundary: botocore's own event hooks answer every AWS call while the local target is on.

As moto's ``mock_aws`` does, the hooks are registered in botocore's list of built-in
handlers, so every botocore session created afterwards -- boto3's, the SDK's, a job script's,
the S3 transfer manager's -- carries them. While the target is on, ``before-call`` answers
each call from the local services (``smlocal.services``) and botocore never signs, sends or
retries a request: nothing reaches the network, whatever credentials or endpoint are set.
While it is off the hooks do nothing.

botocore still does everything on its side of the wire: parameter validation, idempotency
tokens, the S3 customisations, the modeled exception classes, paginators and waiters.
"""

from __future__ import annotations

import logging
import threading
import uuid

import botocore.handlers
from botocore.awsrequest import AWSResponse
from botocore.awsrequest import HeadersDict

from smlocal import polling, services
from smlocal.errors import StateError
from smlocal.services.base import ServiceError

log = logging.getLogger(__name__)
_PARAMS_KEY = "smlocal_api_params"
_lock = threading.Lock()
_installed = False
_active = 0


def install() -> None:
    """Register the hooks in every botocore session from now on (idempotent, inert when off)."""
    global _installed
    with _lock:
        if _installed:
            return
        for spec in _HANDLERS:
            botocore.handlers.BUILTIN_HANDLERS.append(spec)
        _installed = True
    _register_on_existing_default_session()


def _register_on_existing_default_session() -> None:
    """boto3's default session may predate ``install``: give it the hooks too."""
    import sys

    boto3 = sys.modules.get("boto3")
    session = getattr(boto3, "DEFAULT_SESSION", None) if boto3 else None
    if session is not None:
        for event, handler in _HANDLERS:
            session._session.register(event, handler, unique_id=f"smlocal-{event}")


def activate() -> None:
    global _active
    install()
    with _lock:
        _active += 1


def deactivate() -> None:
    global _active
    with _lock:
        _active = max(0, _active - 1)


def active() -> bool:
    return _active > 0


def _keep_api_params(params, context, **_kwargs) -> None:
    """``before-call`` sees the serialized request; the service wants the caller's params."""
    if _active and context is not None:
        context[_PARAMS_KEY] = params


def _answer(model, context, **_kwargs):
    """Answer the call locally: (http response, parsed response), as botocore's Stubber does."""
    if not _active:
        return None
    service_name = model.service_model.service_name
    operation = model.name
    params = (context or {}).get(_PARAMS_KEY) or {}
    region = (context or {}).get("client_region")
    try:
        parsed = services.call(service_name, operation, params, region)
        status = 200
        polling.remember(service_name, operation, params, region, parsed)
    except ServiceError as err:
        parsed, status = err.response(), err.status
    except StateError:  # not a fault of the call: the state folder is for the user to fix
        raise
    except Exception as err:  # a fault of ours, never the caller's: say so, keep the trace
        log.exception("local target: %s.%s failed", service_name, operation)
        parsed = ServiceError(
            "InternalFailure",
            f"the local target failed on {service_name}:{operation}: {type(err).__name__}: {err}",
            status=500,
        ).response()
        status = 500
    headers = HeadersDict({"x-amzn-requestid": str(uuid.uuid4())})
    parsed.setdefault("ResponseMetadata", {})
    parsed["ResponseMetadata"].update(
        {
            "RequestId": headers["x-amzn-requestid"],
            "HTTPStatusCode": status,
            "HTTPHeaders": dict(headers),
            "RetryAttempts": 0,
        }
    )
    return AWSResponse(f"local://{service_name}/{operation}", status, headers, None), parsed


# Registered last, so botocore's own before-parameter-build customisations have run.
_HANDLERS = [
    ("before-parameter-build", _keep_api_params),
    ("before-call", _answer),
]
