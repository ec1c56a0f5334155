"""What endpoint tests share: names, requests, waiting, and finding leftover server processes."""

import http.client
import os
import threading
from pathlib import Path

BUCKET = "endpoint-tests"
ROLE = "arn:aws:iam::000000000000:role/LocalPipelineExecutionRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def variant(model: str, **extra) -> list:
    return [
        {
            "VariantName": "AllTraffic",
            "ModelName": model,
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
            **extra,
        }
    ]


def serve(sm, endpoint: str, model: str, config: str = None, wait: bool = True, **create) -> dict:
    """Configuration and endpoint for ``model``; with ``wait``, until it leaves Creating."""
    config = config or f"{endpoint}-config"
    sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=variant(model))
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config, **create)
    if wait:
        return wait_for(sm, endpoint)
    return sm.describe_endpoint(EndpointName=endpoint)


def wait_for(sm, endpoint: str) -> dict:
    """The SDK's way: the endpoint_in_service waiter (its sleeps end when the status changes)."""
    try:
        sm.get_waiter("endpoint_in_service").wait(
            EndpointName=endpoint, WaiterConfig={"Delay": 30, "MaxAttempts": 10}
        )
    except Exception:  # Failed: the description says why
        pass
    return sm.describe_endpoint(EndpointName=endpoint)


def csv_row(values) -> str:
    return ",".join(repr(float(v)) for v in values)


def server_processes(home) -> list[str]:
    """Command lines of endpoint hosts and model servers of a state folder still running."""
    home = str(Path(home).resolve())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z" and "smlocal.endpoints" in command and home in command:
            found.append(command)
    return found


class Clients:
    """Clients sending requests without pause: InvokeEndpoint, and curl-like HTTP (a connection
    per request) and kept-alive HTTP to the endpoint's URL."""

    def __init__(self, endpoint: str, row: str, home=None):
        from smlocal.endpoints import local_url

        self.endpoint, self.row = endpoint, row
        self.port = int(local_url(endpoint, home=home).rsplit(":", 1)[1].split("/")[0])
        self.answers: dict[str, list[float]] = {"runtime": [], "http": [], "keep-alive": []}
        self.failures: list = []
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._runtime),
            threading.Thread(target=self._http, args=(False,)),
            threading.Thread(target=self._http, args=(True,)),
        ]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def _runtime(self):
        import boto3

        runtime = boto3.client("sagemaker-runtime")
        while not self.stop.is_set():
            try:
                body = runtime.invoke_endpoint(
                    EndpointName=self.endpoint, Body=self.row, ContentType="text/csv"
                )["Body"].read()
                self.answers["runtime"].append(float(body))
            except Exception as err:  # noqa: BLE001 - counted, and the test fails on it
                self.failures.append(("runtime", repr(err)))

    def _http(self, keep_alive: bool):
        kind = "keep-alive" if keep_alive else "http"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            try:
                connection.request(
                    "POST", "/invocations", body=self.row, headers={"Content-Type": "text/csv"}
                )
                reply = connection.getresponse()
                body = reply.read()
                if reply.status != 200:
                    self.failures.append((kind, reply.status, body))
                else:
                    self.answers[kind].append(float(body))
            except Exception as err:  # noqa: BLE001
                self.failures.append((kind, repr(err)))
            if not keep_alive:
                connection.close()
