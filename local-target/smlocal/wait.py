"""Waiting on a local execution without the SDK waiter's fixed polling delay."""

from __future__ import annotations

import time

from smlocal import services

FINAL_STATUSES = ("Succeeded", "Failed", "Stopped")
SETTLE_SECONDS = 10.0


def settle(execution, timeout: float = SETTLE_SECONDS) -> None:
    """Once an execution started here has ended, let its thread keep its last files.

    Its status is recorded first, then the inputs of its picture: a CLI that leaves at
    once must not cut that short. Bounded, so a stuck disk never holds up the result.
    """
    client = execution.sagemaker_session.sagemaker_client
    backend = services.get("sagemaker", client.meta.region_name).backend
    backend.wait(execution.arn, timeout=timeout)


def wait_for(execution, poll_seconds: float = 0.1, timeout: float | None = None) -> str:
    """Block until a local execution ends; returns its final status.

    ``execution`` is the SDK's ``_PipelineExecution``. An execution running in this process
    is joined; one running in another process is polled through the API.
    """
    client = execution.sagemaker_session.sagemaker_client
    region = client.meta.region_name
    backend = services.get("sagemaker", region).backend
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        backend.wait(execution.arn, timeout=poll_seconds)
        status = client.describe_pipeline_execution(PipelineExecutionArn=execution.arn)[
            "PipelineExecutionStatus"
        ]
        if status in FINAL_STATUSES:
            return status
        if execution.arn not in backend.threads:
            time.sleep(poll_seconds)
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"execution {execution.arn} still {status} after {timeout} s")
