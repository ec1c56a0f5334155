"""The Lambda runtime inside an invocation's process: import the handler, call it, report.

``python -m smlocal.functions.bootstrap HANDLER EVENT_FILE RESULT_FILE`` in the function's
unpacked code folder. The result file gets ``{"result": ...}`` or ``{"error": {...}}`` in the
shape Lambda's Python runtime reports errors (``errorMessage``, ``errorType``,
``stackTrace``); what the handler prints goes to the invocation's log, as to CloudWatch.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


class Context:
    """The handler's ``context``, with the attributes Lambda's Python runtime gives it."""

    def __init__(self, deadline: float):
        self._deadline = deadline
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ.get("SMLOCAL_LAMBDA_FUNCTION_ARN", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = os.environ.get("SMLOCAL_LAMBDA_REQUEST_ID", "")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _error(error_type: str, message: str, trace: list[str]) -> dict:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": os.environ.get("SMLOCAL_LAMBDA_REQUEST_ID", ""),
        "stackTrace": trace,
    }


def _handler(spec: str):
    module_name, _, function_name = spec.rpartition(".")
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # noqa: BLE001 - reported as Lambda reports it
        raise _Failure(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {err}"
        ) from None
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise _Failure(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return handler


class _Failure(Exception):
    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type


def run(spec: str, event: Any, deadline: float) -> dict:
    """Call the handler: ``{"result": value}``, or ``{"error": ...}`` for what Lambda reports."""
    try:
        handler = _handler(spec)
    except _Failure as err:
        print(f"[ERROR] {err.error_type}: {err}", file=sys.stderr)
        return {"error": _error(err.error_type, str(err), [])}
    result = handler(event, Context(deadline))  # the handler's own error goes to main
    try:
        json.dumps(result)
    except (TypeError, ValueError) as err:
        return {"error": _error("Runtime.MarshalError", f"Unable to marshal response: {err}", [])}
    return {"result": result}


def main(argv: list[str]) -> int:
    spec, event_file, result_file = argv
    sys.path.insert(0, os.getcwd())
    timeout = float(os.environ.get("SMLOCAL_LAMBDA_TIMEOUT", "3"))
    with open(event_file, "rb") as f:
        raw = f.read()
    event = json.loads(raw) if raw.strip() else {}
    try:
        outcome = run(spec, event, time.time() + timeout)
    except Exception as err:  # noqa: BLE001 - the handler's own error, as Lambda reports it
        trace = traceback.format_exception(type(err), err, err.__traceback__)
        print(f"[ERROR] {type(err).__name__}: {err}\n{''.join(trace)}", file=sys.stderr)
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename != __file__]
        outcome = {"error": _error(type(err).__name__, str(err), traceback.format_list(frames))}
    with open(result_file, "w") as f:
        json.dump(outcome, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
