"""Lambda functions on this machine: their records and code, and running their handlers.

``records`` keeps what CreateFunction/UpdateFunctionCode stored (SQLite, code unpacked per
version), ``runtime`` invokes a handler in a process of its own (``bootstrap`` is that
process's side). The Lambda service (``services.lambda_``) and pipelines' Lambda steps use it.
"""

from smlocal.functions.records import (
    FunctionExists,
    FunctionNotFound,
    FunctionRecord,
    FunctionStore,
    InvalidFunction,
    function_arn,
    parse_name,
)
from smlocal.functions.runtime import Invocation, invoke

__all__ = [
    "FunctionExists",
    "FunctionNotFound",
    "FunctionRecord",
    "FunctionStore",
    "Invocation",
    "InvalidFunction",
    "function_arn",
    "invoke",
    "parse_name",
]
