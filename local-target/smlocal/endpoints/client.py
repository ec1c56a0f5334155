"""HTTP to the endpoints' model servers, for InvokeEndpoint: one kept-alive connection per thread.

A server may close an idle kept-alive connection at any moment (its keep-alive timeout, or
draining during an update); a request whose connection is closed before any answer is sent
again once on a new connection (inference has no side effects), so a switch of servers fails
no request.
"""

from __future__ import annotations

import http.client
import threading
from typing import Optional

TIMEOUT_SECONDS = 60.0  # SageMaker's InvokeEndpoint limit
RETRIED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class ModelServerClient:
    def __init__(self):
        self._local = threading.local()

    def _connections(self) -> dict:
        if not hasattr(self._local, "connections"):
            self._local.connections = {}
        return self._local.connections

    def forget(self, port: Optional[int]) -> None:
        connection = self._connections().pop(port, None)
        if connection is not None:
            connection.close()

    def post(self, port: int, body: bytes, headers: dict) -> tuple[int, dict, bytes]:
        """POST ``/invocations``; (status, lower-cased headers, body)."""
        connections = self._connections()
        for attempt in (1, 2):
            connection = connections.get(port)
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECONDS)
                connections[port] = connection
            try:
                connection.request("POST", "/invocations", body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except RETRIED:
                self.forget(port)
                if attempt == 2:
                    raise
                continue
            except OSError:
                self.forget(port)
                raise
            if response.will_close:
                self.forget(port)
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        raise AssertionError("unreachable")
