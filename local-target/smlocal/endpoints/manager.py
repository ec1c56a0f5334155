"""Endpoint configurations and endpoints: the rules behind the API, and their processes.

``create`` checks everything it can before anything exists (the configuration, the model and
its image, the endpoint name, the port: bound here and handed to the endpoint's host), records
the endpoint as Creating, starts its host detached and returns, as SageMaker returns at once.
The host moves the record on (see ``host``). ``update`` records the configuration to deploy
and wakes the host; ``delete`` stops the host and removes the record; ``invoke`` forwards an
invocation to the endpoint's model server over HTTP.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from smlocal import config
from smlocal.endpoints import processes
from smlocal.endpoints.client import ModelServerClient
from smlocal.endpoints.errors import (
    EndpointError,
    EndpointNotFound,
    EndpointNotServing,
    ModelError,
)
from smlocal.endpoints.records import (
    SERVING,
    EndpointConfigRecord,
    EndpointRecord,
    EndpointStore,
    now,
)
from smlocal.endpoints.resolve import check_variants, served_model
from smlocal.models import ModelStore
from smlocal.shapes import name_problem, request_member
from smlocal.registry import ModelRegistry

log = logging.getLogger(__name__)
HOST_MODULE = "smlocal.endpoints.host"
PORT_TAG = "pipelines-local:port"  # CreateEndpoint tag asking for a port (else a free one)
NOTICE_ENV = "PIPELINES_LOCAL_ENDPOINT_NOTICE"  # "0": CreateEndpoint does not print the URL
STOP_SECONDS = 40.0
TARGET_SECONDS = 0.5  # how long InvokeEndpoint trusts what it last read of an endpoint


@dataclass
class Invocation:
    body: bytes
    content_type: str
    variant: str
    custom_attributes: Optional[str] = None


def _bind(port: int) -> socket.socket:
    """The endpoint's listening socket on 127.0.0.1 (``port`` 0: any free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise EndpointError(f"port {port} on 127.0.0.1 is in use; choose another") from None
        raise EndpointError(f"cannot listen on 127.0.0.1:{port}: {err.strerror}") from None
    sock.listen(1024)
    return sock


def requested_port(tags: list) -> int:
    for tag in tags or []:
        if tag.get("Key") == PORT_TAG:
            value = str(tag.get("Value", ""))
            if not value.isdigit() or not 0 < int(value) < 65536:
                raise EndpointError(f"tag {PORT_TAG}: {value!r} is not a port number (1-65535)")
            return int(value)
    return 0


def _check_name(name: str, operation: str, member: str) -> None:
    """Names become folders' names: SageMaker's own pattern keeps each one folder."""
    problem = name_problem(name, request_member(operation, member))
    if problem:
        raise EndpointError(f"{member} {problem}")


class EndpointManager:
    """The endpoints of one state folder and region."""

    def __init__(self, home: Path, region: str, account: str = config.ACCOUNT_ID):
        self.home, self.region, self.account = Path(home), region, account
        db = self.home / "state.sqlite"
        self.records = EndpointStore(db)
        self.models = ModelStore(db, region, account)
        self.registry = ModelRegistry(db, region, account)
        self.client = ModelServerClient()
        self._targets: dict[str, tuple[int, str, float]] = {}

    def arn(self, resource: str, name: str) -> str:
        return config.arn(self.region, self.account, resource, name)

    # endpoint configurations
    def create_config(self, request: dict) -> EndpointConfigRecord:
        name = request["EndpointConfigName"]
        _check_name(name, "CreateEndpointConfig", "EndpointConfigName")
        for variant in check_variants(name, request):
            served_model(variant, self.models, self.registry)
        record = EndpointConfigRecord(
            name=name,
            arn=self.arn("endpoint-config", name),
            region=self.region,
            request={k: v for k, v in request.items() if k not in ("EndpointConfigName", "Tags")},
        )
        if not self.records.create_config(record):
            raise EndpointError(
                f'Cannot create already existing endpoint configuration "{record.arn}".'
            )
        return record

    def config(self, name: str) -> EndpointConfigRecord:
        record = self.records.config(self.region, name)
        if record is None:
            raise EndpointNotFound(
                f'Could not find endpoint configuration "{self.arn("endpoint-config", name)}".'
            )
        return record

    def configs(self) -> list[EndpointConfigRecord]:
        return self.records.configs(self.region)

    def delete_config(self, name: str) -> None:
        self.config(name)
        self.records.delete_config(self.region, name)

    # endpoints
    def create(self, name: str, config_name: str, tags: Optional[list] = None) -> EndpointRecord:
        """Check, record and start an endpoint; returns its record (Creating)."""
        _check_name(name, "CreateEndpoint", "EndpointName")
        endpoint_config = self.config(config_name)
        for variant in check_variants(config_name, endpoint_config.request):
            served_model(variant, self.models, self.registry)
        arn = self.arn("endpoint", name)
        if self.records.raw(self.region, name) is not None:
            raise EndpointError(f'Cannot create already existing endpoint "{arn}".')
        listener = _bind(requested_port(tags or []))
        try:
            record = EndpointRecord(
                name=name,
                arn=arn,
                region=self.region,
                config_name=endpoint_config.name,
                folder=self.home / "endpoints" / name.lower(),
                host_token=secrets.token_hex(8),
                port=listener.getsockname()[1],
                tags=list(tags or []),
            )
            if not self.records.create(record):
                raise EndpointError(f'Cannot create already existing endpoint "{arn}".')
            try:
                self._start_host(record, listener)
            except OSError as err:
                self.records.delete(self.region, name)
                raise EndpointError(f"could not start endpoint {name}: {err}") from None
        finally:
            listener.close()
        if os.environ.get(NOTICE_ENV, "1") != "0":
            print(
                f"local endpoint {name}: {record.url} (stop it with: endpoints --local stop {name})",
                file=sys.stderr,
            )
        return self.get(name)

    def _start_host(self, record: EndpointRecord, listener: socket.socket) -> None:
        shutil.rmtree(record.folder, ignore_errors=True)
        record.folder.mkdir(parents=True)
        env = {
            **os.environ,
            config.TARGET_ENV: "local",
            config.HOME_ENV: str(self.home),
            "AWS_DEFAULT_REGION": self.region,
        }
        argv = [
            sys.executable,
            "-m",
            HOST_MODULE,
            f"--home={self.home}",
            f"--region={self.region}",
            f"--name={record.name}",
            f"--token={record.host_token}",
            f"--socket-fd={listener.fileno()}",
        ]
        pid = processes.spawn_detached(
            argv,
            env=env,
            cwd=record.folder,
            log=record.folder / "host.log",
            pass_fds=(listener.fileno(),),
        )
        self.records.set(
            self.region,
            record.name,
            where={"host_token": record.host_token},
            host_pid=pid,
            host_started=processes.start_time(pid),
        )

    def get(self, name: str) -> EndpointRecord:
        record = self.records.get(self.region, name)
        if record is None:
            raise EndpointNotFound(f'Could not find endpoint "{self.arn("endpoint", name)}".')
        return record

    def list(self) -> list[EndpointRecord]:
        return self.records.list(self.region)

    def update(self, name: str, config_name: str) -> EndpointRecord:
        """Deploy another configuration to a serving endpoint, without a pause in service."""
        record = self.get(name)
        endpoint_config = self.config(config_name)
        for variant in check_variants(config_name, endpoint_config.request):
            served_model(variant, self.models, self.registry)
        if record.status != "InService":
            raise EndpointError(
                f"Cannot update endpoint {record.arn}: it is {record.status}, not InService."
            )
        if not self.records.set(
            self.region,
            name,
            where={"host_token": record.host_token, "status": "InService"},
            status="Updating",
            pending_config=endpoint_config.name,
            pending_since=now(),
        ):
            raise EndpointError(f"Cannot update endpoint {record.arn}: it changed meanwhile.")
        try:
            os.kill(record.host_pid, signal.SIGHUP)
        except (ProcessLookupError, TypeError):
            pass  # the next look at the record marks it Failed
        return self.get(name)

    def delete(self, name: str) -> None:
        """Stop the endpoint's processes (draining its server) and forget it."""
        record = self.get(name)
        self.records.set(
            self.region, name, where={"host_token": record.host_token}, status="Deleting"
        )
        # the host drains its model server; a server whose host died ends on its own (lifeline)
        processes.terminate(record.host_pid, record.host_started, grace=STOP_SECONDS)
        self.records.delete(self.region, name)
        self._targets.pop(name.lower(), None)
        self.client.forget(record.port)
        shutil.rmtree(record.folder, ignore_errors=True)

    def stop_all(self) -> list[str]:
        """Delete every endpoint of this state folder (all regions); their names."""
        names = []
        for record in self.records.list(None):
            EndpointManager(self.home, record.region, self.account).delete(record.name)
            names.append(record.name)
        return names

    # invocations
    def _target(self, name: str, fresh: bool = False) -> tuple[int, str]:
        """(port, variant) of a serving endpoint; looked up at most every TARGET_SECONDS."""
        key = name.lower()
        cached = self._targets.get(key)
        if cached is not None and not fresh and cached[2] > time.monotonic():
            return cached[0], cached[1]
        self._targets.pop(key, None)
        record = self.records.get(self.region, name)
        if record is None:
            raise EndpointNotFound(f"Endpoint {name} of account {self.account} not found.")
        if record.status not in SERVING:
            reason = f": {record.failure_reason}" if record.failure_reason else ""
            raise EndpointNotServing(f"Endpoint {name} is {record.status}{reason}")
        variant = (record.variants or [{}])[0].get("VariantName", "AllTraffic")
        self._targets[key] = (record.port, variant, time.monotonic() + TARGET_SECONDS)
        return record.port, variant

    def invoke(
        self,
        name: str,
        body: bytes,
        content_type: Optional[str] = None,
        accept: Optional[str] = None,
        custom_attributes: Optional[str] = None,
    ) -> Invocation:
        """Send one request to the endpoint's model server; ModelError for an error answer."""
        port, variant = self._target(name)
        headers = {"Content-Type": content_type or "application/octet-stream"}
        if accept:
            headers["Accept"] = accept
        if custom_attributes:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = custom_attributes
        try:
            status, reply_headers, data = self.client.post(port, body, headers)
        except OSError as err:
            self._target(name, fresh=True)  # says why, if the endpoint no longer serves
            raise EndpointNotServing(f"Endpoint {name}: its model server did not answer: {err}")
        if not 200 <= status < 300:
            raise ModelError(
                name,
                status,
                data.decode("utf-8", "replace"),
                f"/aws/sagemaker/Endpoints/{name}/{variant}",
            )
        return Invocation(
            body=data,
            content_type=reply_headers.get("content-type", "application/octet-stream"),
            variant=variant,
            custom_attributes=reply_headers.get("x-amzn-sagemaker-custom-attributes"),
        )
