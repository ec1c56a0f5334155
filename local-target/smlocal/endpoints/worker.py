"""An endpoint's model server: the inference container's HTTP contract on a shared socket.

Run by the endpoint's host as a container process (``/opt/ml`` mapped to the server's folder,
through ``smlocal.containers.launch``): ``... -m smlocal.endpoints.worker --socket-fd N
--ready-fd R --lifeline-fd L``. It loads the model, says so on the ready pipe, then serves
``GET /ping`` and ``POST /invocations`` with uvicorn (the ASGI server the SageMaker SDK's own
model server uses) and Starlette, accepting connections on the listening socket the host
owns. Two servers accept on that socket while an update switches from one to the other, so
the endpoint's address never changes and no connection is refused.

SIGTERM drains: the server stops accepting, answers what it has already accepted (closing
kept-alive connections after their next answer), then ends.
If the host dies (the lifeline pipe closes), the server drains and ends too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

    from smlocal.endpoints.serving import Handler

FAILURE = "/opt/ml/output/failure"
FRESH_SECONDS = 10.0  # the longest a drain waits for requests on connections it has accepted
DRAIN_SECONDS = 1.0  # after it stops accepting: accepted connections are read, kept-alive ones told


def _report_failure(err: BaseException) -> None:
    os.makedirs(os.path.dirname(FAILURE), exist_ok=True)
    with open(FAILURE, "w") as f:
        f.write(f"{type(err).__name__}: {err}")
    traceback.print_exc()


class Draining:
    """Set once the server drains: answers then close their connection.

    Kept-alive clients then reconnect (to the new server) instead of finding their connection
    closed under them.
    """

    on = False


def build_app(handler: "Handler") -> "Starlette":
    """The Starlette application of a handler (``serving.Handler``)."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def ping(request):
        return Response(status_code=200)

    async def invocations(request):
        answer = handler(
            await request.body(), request.headers.get("content-type"), request.headers.get("accept")
        )
        headers = {"Connection": "close"} if Draining.on else None
        return Response(
            answer.body, status_code=answer.status, media_type=answer.content_type, headers=headers
        )

    async def execution_parameters(request):
        return JSONResponse(
            {"MaxConcurrentTransforms": 1, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6}
        )

    return Starlette(
        routes=[
            Route("/ping", ping, methods=["GET"]),
            Route("/invocations", invocations, methods=["POST"]),
            Route("/execution-parameters", execution_parameters, methods=["GET"]),
        ]
    )


def make_server(app: "Starlette") -> "uvicorn.Server":
    """A uvicorn server whose SIGTERM drains the connections already accepted first."""
    import uvicorn

    class DrainingServer(uvicorn.Server):
        draining = False

        def handle_exit(self, sig, frame):  # noqa: D401 - uvicorn's signal hook
            if sig != signal.SIGTERM or self.draining:
                return super().handle_exit(sig, frame)
            self.draining = True
            asyncio.get_event_loop().call_soon_threadsafe(
                lambda: asyncio.ensure_future(self.drain())
            )

        async def drain(self):
            Draining.on = True
            # Stop accepting, but leave the servers open until the drain ends: connections
            # accepted in the same turn of the loop are attached to their server after this,
            # and a closed asyncio server refuses them, leaving them unanswered (reset at exit).
            loop = asyncio.get_running_loop()
            for server in getattr(self, "servers", []):
                for sock in server.sockets or ():
                    loop.remove_reader(sock.fileno())
            await asyncio.sleep(DRAIN_SECONDS)
            # a connection accepted but whose request has not come yet (a slow client) would
            # be closed under it at shutdown: wait for its request, within reason
            deadline = time.monotonic() + FRESH_SECONDS
            while time.monotonic() < deadline and any(
                getattr(c, "cycle", True) is None for c in self.server_state.connections
            ):
                await asyncio.sleep(0.05)
            self.should_exit = True

    config = uvicorn.Config(
        app,
        loop="asyncio",
        http="h11",
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=30,
    )
    return DrainingServer(config)


def _watch_lifeline(fd: int) -> None:
    """When the host's end of the pipe closes (the host died), drain and end."""

    def watch():
        try:
            while os.read(fd, 1024):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser("smlocal.endpoints.worker")
    parser.add_argument("--socket-fd", type=int, required=True)
    parser.add_argument("--ready-fd", type=int, required=True)
    parser.add_argument("--lifeline-fd", type=int, required=True)
    args = parser.parse_args(argv)
    _watch_lifeline(args.lifeline_fd)
    try:
        from smlocal.endpoints import serving

        handler = serving.load()
        server = make_server(build_app(handler))
    except Exception as err:  # the host reports it as the endpoint's failure
        _report_failure(err)
        sys.exit(1)
    listener = socket.socket(fileno=args.socket_fd)
    os.write(args.ready_fd, b"ready\n")
    os.close(args.ready_fd)
    server.run(sockets=[listener])


if __name__ == "__main__":
    main(sys.argv[1:])
