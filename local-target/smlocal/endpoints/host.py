"""An endpoint's host: the process that owns its address and runs its model servers.

``python -m smlocal.endpoints.host --home H --region R --name N --token T --socket-fd F``,
started detached by ``CreateEndpoint`` with the endpoint's listening socket already bound (so
a port in use is refused before anything exists). It plays the part of SageMaker's instances:

- prepares a model server's folder (model data and code, as a container's ``/opt/ml``), starts
  the server on the shared socket and waits until it has loaded the model: the endpoint is
  then InService, or Failed with the server's reason;
- on an update (SIGHUP after the record says Updating) it starts the new server beside the
  old one, switches the record to it, then drains the old one: no request is refused or lost,
  and a new server that cannot load its model leaves the old one serving, with the reason;
- a server that dies makes the endpoint Failed with its exit status and last output;
- SIGTERM (DeleteEndpoint), or a record that no longer names this host, ends it all.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path
from typing import Optional

from smlocal import config
from smlocal.artifacts import unpack
from smlocal.endpoints.errors import EndpointError
from smlocal.endpoints.records import EndpointRecord, EndpointStore, now
from smlocal.endpoints.resolve import ServedModel, check_variants, served_model
from smlocal.errors import StepFailed
from smlocal.jobs.process import tail
from smlocal.models import ModelStore
from smlocal.registry import ModelRegistry
from smlocal.sources import DataSources
from smlocal.store import ObjectStore

log = logging.getLogger("smlocal.endpoints.host")
WORKER_MODULE = "smlocal.endpoints.worker"
CHECK_SECONDS = 0.5
DEFAULT_STARTUP_SECONDS = 600  # SageMaker's ContainerStartupHealthCheckTimeoutInSeconds ceiling


class DeployFailed(Exception):
    """A model server could not be started; the message is the endpoint's FailureReason."""


class Worker:
    """One running model server."""

    def __init__(self, proc: subprocess.Popen, folder: Path, lifeline: int, model: ServedModel):
        self.proc, self.folder, self.lifeline, self.model = proc, folder, lifeline, model
        self.stopping = False

    @property
    def logs(self) -> Path:
        return self.folder / "logs"

    def stop(self, grace: float = 35.0) -> None:
        """Drain and end the server (SIGTERM), then remove its folder."""
        self.stopping = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.close(self.lifeline)
        except OSError:
            pass

    def crash_reason(self) -> str:
        code = self.proc.returncode
        what = f"exited with code {code}"
        if code is not None and code < 0:
            try:
                what = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                what = f"was killed by signal {-code}"
        output = tail(self.logs / "stderr.log", lines=5, chars=600)
        return f"the model server of variant {self.model.variant} (pid {self.proc.pid}) {what}" + (
            f": {output}" if output else ""
        )


class EndpointHost:
    """Runs one endpoint until it is deleted or its server fails."""

    def __init__(self, home: Path, region: str, name: str, token: str, listener: socket.socket):
        self.home, self.region, self.name, self.token = Path(home), region, name, token
        self.listener = listener
        db = self.home / "state.sqlite"
        self.records = EndpointStore(db)
        self.models = ModelStore(db, region, config.ACCOUNT_ID)
        self.registry = ModelRegistry(db, region, config.ACCOUNT_ID)
        self.sources = DataSources(ObjectStore(self.home / "s3"), self.home / "datasets")
        self.stop_asked = threading.Event()
        self.wake = threading.Event()

    # the record
    def record(self) -> Optional[EndpointRecord]:
        record = self.records.raw(self.region, self.name)
        return record if record is not None and record.host_token == self.token else None

    def _set(self, status_from: tuple[str, ...], **values) -> bool:
        for status in status_from:
            if self.records.set(
                self.region, self.name, where={"host_token": self.token, "status": status}, **values
            ):
                return True
        return False

    # running
    def run(self) -> None:
        record = self.record()
        worker: Optional[Worker] = None
        try:
            if record is None:
                return
            try:
                worker = self.start(record.config_name, generation=1)
            except DeployFailed as err:
                self.listener.close()  # the port is free once the endpoint shows Failed
                self._set(("Creating",), status="Failed", failure_reason=str(err))
                return
            if not self._set(
                ("Creating",),
                status="InService",
                worker_pid=worker.proc.pid,
                generation=1,
                variants=self.variants(record.config_name, worker.model),
                failure_reason=None,
            ):
                return  # deleted meanwhile
            self.record_lineage(record.config_name, worker.model, 1)
            worker = self.serve(worker)
        finally:
            if worker is not None:
                worker.stop()
            self.listener.close()

    def serve(self, worker: Worker) -> Optional[Worker]:
        """Watch the server, apply updates; returns the server left to stop."""
        while True:
            self.wake.wait(CHECK_SECONDS)
            self.wake.clear()
            if self.stop_asked.is_set():
                return worker
            if worker.proc.poll() is not None:
                worker.stop()
                self.listener.close()
                self._set(
                    ("InService", "Updating"),
                    status="Failed",
                    failure_reason=worker.crash_reason(),
                    pending_config=None,
                    pending_since=None,
                )
                return None
            record = self.record()
            if record is None or record.status not in ("InService", "Updating"):
                return worker
            if record.status == "Updating" and record.pending_config:
                worker = self.update(worker, record)

    def update(self, old: Worker, record: EndpointRecord) -> Worker:
        """Start the new server beside the old, switch the record to it, then drain the old one."""
        generation = record.generation + 1
        try:
            new = self.start(record.pending_config, generation)
        except DeployFailed as err:
            self._set(
                ("Updating",),
                status="InService",
                pending_config=None,
                pending_since=None,
                failure_reason=f"the update to endpoint configuration {record.pending_config} "
                f"failed, and the endpoint still serves {record.config_name}: {err}",
            )
            return old
        if not self._set(
            ("Updating",),
            status="InService",
            config_name=record.pending_config,
            pending_config=None,
            pending_since=None,
            worker_pid=new.proc.pid,
            generation=generation,
            variants=self.variants(record.pending_config, new.model),
            failure_reason=None,
        ):
            new.stop()  # deleted while updating
            return old
        self.record_lineage(record.pending_config, new.model, generation)
        threading.Thread(target=self._retire, args=(old,), name="retire", daemon=True).start()
        return new

    @staticmethod
    def _retire(worker: Worker) -> None:
        worker.stop()
        shutil.rmtree(worker.folder, ignore_errors=True)

    # model servers
    def start(self, config_name: str, generation: int) -> Worker:
        """Prepare and start a model server for ``config_name``; return it once it has loaded."""
        try:
            model, timeout = self.resolve(config_name)
        except EndpointError as err:
            raise DeployFailed(str(err)) from None
        folder = self.home / "endpoints" / self.name.lower() / f"{generation}-{config_name}"
        shutil.rmtree(folder, ignore_errors=True)
        ml = folder / "container" / "opt" / "ml"
        try:
            self.prepare(model, ml, folder)
        except (StepFailed, OSError, tarfile.TarError, ValueError) as err:
            raise DeployFailed(f"could not fetch the model of variant {model.variant}: {err}")
        ready_read, ready_write = os.pipe()
        lifeline_read, lifeline_write = os.pipe()
        fds = (self.listener.fileno(), ready_write, lifeline_read)
        argv = [
            sys.executable,
            "-m",
            "smlocal.containers.launch",
            json.dumps({"/opt/ml": str(ml)}),
            "-m",
            WORKER_MODULE,
            f"--socket-fd={fds[0]}",
            f"--ready-fd={fds[1]}",
            f"--lifeline-fd={fds[2]}",
        ]
        (folder / "logs").mkdir(parents=True, exist_ok=True)
        with open(folder / "logs" / "stdout.log", "wb") as out, open(
            folder / "logs" / "stderr.log", "wb"
        ) as err:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=str(folder),
                env=self.environment(model),
                pass_fds=fds,
            )
        os.close(ready_write)
        os.close(lifeline_read)
        worker = Worker(proc, folder, lifeline_write, model)
        try:
            self.wait_ready(worker, ready_read, timeout)
        except BaseException:
            worker.stop(grace=5)
            raise
        finally:
            os.close(ready_read)
        return worker

    def resolve(self, config_name: str) -> tuple[ServedModel, float]:
        endpoint_config = self.records.config(self.region, config_name)
        if endpoint_config is None:
            raise EndpointError(f"Could not find endpoint configuration {config_name}.")
        (variant,) = check_variants(config_name, endpoint_config.request)
        timeout = variant.get("ContainerStartupHealthCheckTimeoutInSeconds")
        return served_model(variant, self.models, self.registry), float(
            timeout or DEFAULT_STARTUP_SECONDS
        )

    def prepare(self, model: ServedModel, ml: Path, folder: Path) -> None:
        """The container's ``/opt/ml``: model data in ``model``, the script's code in ``code``."""
        (ml / "model").mkdir(parents=True)
        downloads = folder / "downloads"
        fetches = [(model.model_data, ml / "model")]
        if model.program and model.environment.get("SAGEMAKER_SUBMIT_DIRECTORY"):
            fetches.append((model.environment["SAGEMAKER_SUBMIT_DIRECTORY"], ml / "code"))
        for index, (uri, dest) in enumerate(fetches):
            if not uri:
                continue
            scratch = downloads / str(index)
            self.sources.fetch(uri, scratch)
            for archive in sorted(p for p in scratch.rglob("*") if p.is_file()):
                if tarfile.is_tarfile(archive):
                    unpack(archive, dest)
                else:
                    dest.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(archive, dest / archive.name)
        shutil.rmtree(downloads, ignore_errors=True)

    def environment(self, model: ServedModel) -> dict:
        env = dict(os.environ)
        # One thread per prediction, as the XGBoost container's workers run (nthread 1): a
        # request is a few rows, and OpenMP threads spinning on a busy machine cost tens of ms.
        env.setdefault("OMP_NUM_THREADS", "1")
        env.update(model.environment)
        env.update(
            {
                config.TARGET_ENV: "local",
                config.HOME_ENV: str(self.home),
                "AWS_DEFAULT_REGION": self.region,
                "SAGEMAKER_BIND_TO_PORT": str(self.listener.getsockname()[1]),
                "SM_MODEL_DIR": "/opt/ml/model",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def wait_ready(self, worker: Worker, ready: int, timeout: float) -> None:
        """Until the server says it has loaded its model; DeployFailed if it ends or times out."""
        deadline = time.monotonic() + timeout
        while True:
            readable, _, _ = select.select([ready], [], [], 0.05)
            if readable and os.read(ready, 64).startswith(b"ready"):
                return
            if worker.proc.poll() is not None or readable:
                worker.proc.wait()
                failure = worker.folder / "container" / "opt" / "ml" / "output" / "failure"
                if failure.is_file():
                    raise DeployFailed(
                        f"the model server of variant {worker.model.variant} could not load "
                        f"model {worker.model.model_name}: {failure.read_text().strip()}"
                    )
                raise DeployFailed(worker.crash_reason())
            if self.stop_asked.is_set():
                raise DeployFailed("the endpoint was deleted while its model server started")
            if time.monotonic() > deadline:
                raise DeployFailed(
                    f"the model server of variant {worker.model.variant} did not pass the ping "
                    f"health check within {timeout:g} s"
                )

    def variants(self, config_name: str, model: ServedModel) -> list[dict]:
        """The ProductionVariants DescribeEndpoint shows for what is now served."""
        endpoint_config = self.records.config(self.region, config_name)
        if endpoint_config is None:  # deleted since it was deployed
            return []
        variant = endpoint_config.request["ProductionVariants"][0]
        weight = float(variant.get("InitialVariantWeight", 1.0))
        count = int(variant.get("InitialInstanceCount") or 1)
        summary = {
            "VariantName": model.variant,
            "DeployedImages": [
                {
                    "SpecifiedImage": model.image,
                    "ResolvedImage": model.image,
                    "ResolutionTime": now().isoformat(),
                }
            ],
            "CurrentWeight": weight,
            "DesiredWeight": weight,
            "CurrentInstanceCount": count,
            "DesiredInstanceCount": count,
        }
        if variant.get("ServerlessConfig"):
            summary["CurrentServerlessConfig"] = variant["ServerlessConfig"]
            summary["DesiredServerlessConfig"] = variant["ServerlessConfig"]
        return [summary]

    def record_lineage(self, config_name: str, model: ServedModel, generation: int) -> None:
        from smlocal import lineage

        record = self.record()
        if record is not None:
            lineage.record_deployment(self.home, record, config_name, model, generation)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser("smlocal.endpoints.host")
    for name in ("--home", "--region", "--name", "--token"):
        parser.add_argument(name, required=True)
    parser.add_argument("--socket-fd", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    listener = socket.socket(fileno=args.socket_fd)
    host = EndpointHost(Path(args.home), args.region, args.name, args.token, listener)

    def stop(signum, frame):
        host.stop_asked.set()
        host.wake.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, lambda signum, frame: host.wake.set())
    log.info("endpoint %s: host %d serving at %s", args.name, os.getpid(), listener.getsockname())
    host.run()
    log.info("endpoint %s: host %d ended", args.name, os.getpid())


if __name__ == "__main__":
    main(sys.argv[1:])
