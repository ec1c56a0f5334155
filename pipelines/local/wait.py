"""Waiting on local executions without the SDK waiter's fixed polling delay."""

from __future__ import annotations

import time

FINAL_STATUSES = ("Succeeded", "Failed", "Stopped")


def wait_for(execution, poll_seconds: float = 0.1, timeout: float | None = None) -> str:
    """Block until a local execution ends; returns its final status.

    Works for an SDK ``_PipelineExecution`` whose session is a LocalPipelineSession, also when
    the execution runs in another process (then by polling the state database).
    """
    client = execution.sagemaker_session.sagemaker_client
    backend = getattr(client, "backend", None)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if backend is not None:
            backend.wait(execution.arn, timeout=poll_seconds)
        status = client.describe_pipeline_execution(PipelineExecutionArn=execution.arn)[
            "PipelineExecutionStatus"
        ]
        if status in FINAL_STATUSES:
            return status
        if backend is None:
            time.sleep(poll_seconds)
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"execution {execution.arn} still {status} after {timeout} s")
