"""One invocation of a Lambda function: its handler in a process of its own, bounded by Timeout.

The process runs ``bootstrap`` in the function's unpacked code folder with Lambda's
environment (the function's variables, ``AWS_LAMBDA_*``, ``LAMBDA_TASK_ROOT``) and the local
target on, so the handler's own AWS calls are answered here too. Its output is the
invocation's log; a handler that outlives ``Timeout`` is ended and reported as Lambda reports
it (``Sandbox.Timedout``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from smlocal import config
from smlocal.functions.records import FunctionRecord, FunctionStore

LOG_TAIL_BYTES = 4096  # LogType Tail: the last 4 KB of the log


@dataclass
class Invocation:
    """What an invocation returned: the payload (JSON bytes), or Lambda's error payload."""

    request_id: str
    payload: bytes
    error: Optional[dict]
    log: Path

    @property
    def failed(self) -> bool:
        return self.error is not None

    def log_tail(self) -> bytes:
        try:
            return self.log.read_bytes()[-LOG_TAIL_BYTES:]
        except FileNotFoundError:
            return b""


def environment(function: FunctionRecord, home: Path, request_id: str, task_root: Path) -> dict:
    """Lambda's environment for the handler, with the local target on for its AWS calls."""
    return {
        **os.environ,
        **function.environment,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": request_id,
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "LAMBDA_TASK_ROOT": str(task_root),
        "_HANDLER": function.handler,
        "SMLOCAL_LAMBDA_FUNCTION_ARN": function.arn,
        "SMLOCAL_LAMBDA_REQUEST_ID": request_id,
        "SMLOCAL_LAMBDA_TIMEOUT": str(function.timeout),
        config.TARGET_ENV: "local",
        config.HOME_ENV: str(home),
    }


def invoke(
    store: FunctionStore, function: FunctionRecord, event: bytes, log_dir: Optional[Path] = None
) -> Invocation:
    """Run the handler once on ``event`` (JSON bytes) and wait for it (at most its Timeout)."""
    request_id = str(uuid.uuid4())
    log_dir = Path(log_dir or store.folder(function) / "invocations" / request_id)
    log_dir.mkdir(parents=True, exist_ok=True)
    event_file, result_file = log_dir / "event.json", log_dir / "result.json"
    event_file.write_bytes(event or b"")
    result_file.unlink(missing_ok=True)
    task_root = store.code_dir(function)
    log = log_dir / "output.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "smlocal.functions.bootstrap", function.handler]
            + [str(event_file), str(result_file)],
            cwd=task_root,
            env=environment(function, store.home, request_id, task_root),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout=function.timeout)
        except subprocess.TimeoutExpired:
            _end(process)
            message = f"Task timed out after {function.timeout:.2f} seconds"
            out.write(f"{request_id} {message}\n".encode())
            error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: {message}",
            }
            return Invocation(request_id, json.dumps(error).encode(), error, log)
    return _outcome(request_id, code, result_file, log)


def _outcome(request_id: str, code: int, result_file: Path, log: Path) -> Invocation:
    try:
        outcome = json.loads(result_file.read_text())
    except (FileNotFoundError, ValueError):
        error = {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
            f"exit status {code}",
        }
        return Invocation(request_id, json.dumps(error).encode(), error, log)
    if "error" in outcome:
        return Invocation(request_id, json.dumps(outcome["error"]).encode(), outcome["error"], log)
    return Invocation(request_id, json.dumps(outcome["result"]).encode(), None, log)


def _end(process: subprocess.Popen) -> None:
    """End the handler's process and everything it started."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass
    process.wait()
