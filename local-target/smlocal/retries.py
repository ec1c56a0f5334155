"""Step RetryPolicies: which local failures are retried, how often, and after how long.

Of SageMaker's exception types, two can happen on one machine: ``Step.SERVICE_FAULT`` (the
local target itself failed while running the step) and ``SageMaker.JOB_INTERNAL_ERROR`` (the
job's process was killed by a signal it did not ask for, e.g. by the out-of-memory killer).
Throttling, capacity and resource-limit errors never occur locally; policies naming them are
accepted and simply never fire. A script's own error is not retried, as on SageMaker.
"""

from __future__ import annotations

import time
from typing import Optional

from smlocal.errors import DefinitionError

SERVICE_FAULT = "Step.SERVICE_FAULT"
JOB_INTERNAL_ERROR = "SageMaker.JOB_INTERNAL_ERROR"
EXCEPTION_TYPES = (
    SERVICE_FAULT,
    "Step.THROTTLING",
    JOB_INTERNAL_ERROR,
    "SageMaker.CAPACITY_ERROR",
    "SageMaker.RESOURCE_LIMIT",
)


def validate(step_name: str, policies: list[dict]) -> None:
    for policy in policies:
        unknown = [t for t in policy.get("ExceptionType") or [] if t not in EXCEPTION_TYPES]
        if unknown:
            raise DefinitionError(
                f"step {step_name!r}: retry exception type {unknown[0]!r} is not one of {', '.join(EXCEPTION_TYPES)}"
            )


def delay_before_retry(
    policies: list[dict], kind: Optional[str], attempt: int, first_start: float
) -> Optional[float]:
    """Seconds to wait before attempt ``attempt + 1``, or None if no policy retries ``kind``.

    ``MaxAttempts`` counts retries after the first attempt; ``ExpireAfterMin`` bounds the time
    since the first attempt started.
    """
    if kind is None:
        return None
    for policy in policies:
        if kind not in (policy.get("ExceptionType") or []):
            continue
        if attempt > int(policy.get("MaxAttempts", 0)):
            continue
        expire = policy.get("ExpireAfterMin")
        if expire is not None and time.monotonic() - first_start > float(expire) * 60:
            continue
        interval = float(policy.get("IntervalSeconds", 1))
        return interval * float(policy.get("BackoffRate", 2.0)) ** (attempt - 1)
    return None
