"""The endpoint API's refusals and failures, each meaning one thing to the caller."""

from __future__ import annotations

from typing import Optional

from smlocal.errors import LocalTargetError


class EndpointError(LocalTargetError):
    """A request refused before anything is created or changed (a ValidationException)."""


class EndpointNotFound(EndpointError):
    """No endpoint (or endpoint configuration) of that name in this region."""


class EndpointNotServing(EndpointError):
    """The endpoint exists but has no model server answering (Creating, Failed, Deleting)."""


class ModelError(LocalTargetError):
    """The model server answered an invocation with an error status (InvokeEndpoint's ModelError).

    Attributes:
        status: the HTTP status the model server returned.
        body: what it said.
        log_stream: the CloudWatch-style name of the server's log stream.
    """

    def __init__(self, endpoint: str, status: int, body: str, log_stream: Optional[str] = None):
        super().__init__(
            f'Received client error ({status}) from primary with message "{body}". '
            f"See the log stream {log_stream} of endpoint {endpoint} for more information."
            if status < 500
            else f'Received server error ({status}) from primary with message "{body}". '
            f"See the log stream {log_stream} of endpoint {endpoint} for more information."
        )
        self.status = status
        self.body = body
        self.log_stream = log_stream
