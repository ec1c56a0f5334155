"""Benchmark of a local real-time endpoint: prints figures, asserts nothing.

Measures on this machine, with an XGBoost model of the abalone data (the template pipeline's
hyperparameters) served by the built-in algorithm's local server:

- startup: ``CreateEndpoint`` until InService (the SDK's waiter), and until the first answer;
- latency of one-row ``text/csv`` requests, p50/p99 and throughput:
  - over HTTP to the endpoint's URL, by ``wrk`` when it is installed (``apt-get install wrk``)
    and by a small Python load generator (kept-alive connections) in any case,
    with 1 and 4 concurrent connections;
  - through ``InvokeEndpoint`` (boto3's ``sagemaker-runtime`` client, as ``Predictor.predict``);
- an update to another model (``UpdateEndpoint`` until InService), under load, and the
  requests that failed during it.

Usage: ``python benchmarks/bench_endpoint.py [--seconds 5] [--requests 2000]``.
Everything runs in a temporary state folder; the endpoint is deleted at the end.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "abalone-dataset.csv"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
BUCKET = "bench-endpoint"
HYPERPARAMETERS = {
    "objective": "reg:squarederror",
    "max_depth": 5,
    "eta": 0.2,
    "gamma": 4,
    "min_child_weight": 6,
    "subsample": 0.7,
}


def model_tarball(rounds: int) -> tuple[bytes, str]:
    """An abalone XGBoost model (numeric features) as model.tar.gz, and one CSV row to score."""
    import xgboost

    table = np.genfromtxt(DATA, delimiter=",", usecols=range(1, 9))
    features, label = table[:, :7], table[:, 7]
    booster = xgboost.train(HYPERPARAMETERS, xgboost.DMatrix(features, label=label), rounds)
    raw = bytes(booster.save_raw(raw_format="ubj"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return buffer.getvalue(), ",".join(repr(float(v)) for v in features[0])


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"


def python_load(port: int, row: str, connections: int, seconds: float) -> tuple[list[float], int]:
    """Closed-loop requests on kept-alive connections; (latencies, errors)."""
    latencies: list[float] = []
    errors = [0]
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                conn.request("POST", "/invocations", body=row, headers={"Content-Type": "text/csv"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
            except OSError:
                errors[0] += 1
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0]


def wrk_load(url: str, row: str, connections: int, seconds: float) -> str:
    """wrk's latency percentiles and throughput for one-row CSV POSTs."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            f'wrk.method = "POST"\nwrk.body = "{row}"\nwrk.headers["Content-Type"] = "text/csv"\n'
        )
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{int(seconds)}s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
        )
    finally:
        os.unlink(script.name)
    out = result.stdout
    found = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    rate = re.search(r"Requests/sec:\s+(\S+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (
        f"p50 {found.get('50', '?'):>9}  p99 {found.get('99', '?'):>9}  "
        f"{rate.group(1) if rate else '?'} req/s  non-2xx {errors.group(1) if errors else 0}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per load measurement")
    parser.add_argument("--requests", type=int, default=2000, help="InvokeEndpoint requests")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-endpoint-"))
    os.environ["PIPELINES_LOCAL_HOME"] = str(home)
    import boto3

    import smlocal
    from smlocal import endpoints

    smlocal.enable()
    try:
        s3, sm = boto3.client("s3"), boto3.client("sagemaker")
        runtime = boto3.client("sagemaker-runtime")
        s3.create_bucket(Bucket=BUCKET)
        rows = {}
        for version, rounds in ((1, 50), (2, 80)):
            body, rows[version] = model_tarball(rounds)
            s3.put_object(Bucket=BUCKET, Key=f"v{version}/model.tar.gz", Body=body)
            sm.create_model(
                ModelName=f"abalone-v{version}",
                ExecutionRoleArn="arn:aws:iam::000000000000:role/Bench",
                PrimaryContainer={
                    "Image": IMAGE,
                    "ModelDataUrl": f"s3://{BUCKET}/v{version}/model.tar.gz",
                },
            )
            sm.create_endpoint_config(
                EndpointConfigName=f"abalone-v{version}",
                ProductionVariants=[
                    {
                        "VariantName": "AllTraffic",
                        "ModelName": f"abalone-v{version}",
                        "InitialInstanceCount": 1,
                        "InstanceType": "ml.m5.large",
                    }
                ],
            )
        row = rows[1]
        start = time.perf_counter()
        sm.create_endpoint(EndpointName="bench", EndpointConfigName="abalone-v1")
        sm.get_waiter("endpoint_in_service").wait(
            EndpointName="bench", WaiterConfig={"Delay": 1, "MaxAttempts": 300}
        )
        in_service = time.perf_counter() - start
        runtime.invoke_endpoint(EndpointName="bench", Body=row, ContentType="text/csv")
        first = time.perf_counter() - start
        url = endpoints.local_url("bench")
        port = int(url.split(":")[2].split("/")[0])
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
        print(f"endpoint URL: {url}")
        print(f"startup: InService after {in_service:.2f} s, first answer after {first:.2f} s")

        for connections in (1, 4):
            latencies, errors = python_load(port, row, connections, args.seconds)
            rate = len(latencies) / args.seconds
            print(
                f"HTTP, python, {connections} conn: {percentiles(latencies)}  "
                f"{rate:7.0f} req/s  errors {errors}"
            )
            if shutil.which("wrk"):
                print(
                    f"HTTP, wrk,    {connections} conn: {wrk_load(url, row, connections, args.seconds)}"
                )
        latencies = []
        for _ in range(args.requests):
            began = time.perf_counter()
            runtime.invoke_endpoint(EndpointName="bench", Body=row, ContentType="text/csv")[
                "Body"
            ].read()
            latencies.append(time.perf_counter() - began)
        print(f"InvokeEndpoint (boto3), 1 client: {percentiles(latencies)}")

        outcome: dict = {}
        load = threading.Thread(
            target=lambda: outcome.update(
                zip(("latencies", "errors"), python_load(port, row, 2, args.seconds + 3))
            )
        )
        load.start()
        time.sleep(1)
        start = time.perf_counter()
        sm.update_endpoint(EndpointName="bench", EndpointConfigName="abalone-v2")
        sm.get_waiter("endpoint_in_service").wait(
            EndpointName="bench", WaiterConfig={"Delay": 1, "MaxAttempts": 300}
        )
        updated = time.perf_counter() - start
        load.join()
        print(
            f"update to another model: InService after {updated:.2f} s; under load "
            f"{len(outcome['latencies'])} requests, {outcome['errors']} failed, "
            f"{percentiles(outcome['latencies'])}"
        )
    finally:
        endpoints.stop_all(home)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
