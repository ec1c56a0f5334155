"""Retry policies: which failures, how many attempts, how long between them."""

import time

from smlocal.retries import JOB_INTERNAL_ERROR, SERVICE_FAULT, delay_before_retry

POLICIES = [
    {"ExceptionType": [SERVICE_FAULT], "IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 3},
    {
        "ExceptionType": [JOB_INTERNAL_ERROR],
        "IntervalSeconds": 5,
        "BackoffRate": 1.0,
        "MaxAttempts": 1,
        "ExpireAfterMin": 1,
    },
]


def test_exponential_backoff_until_max_attempts():
    start = time.monotonic()
    assert [delay_before_retry(POLICIES, SERVICE_FAULT, n, start) for n in (1, 2, 3, 4)] == [
        1.0,
        2.0,
        4.0,
        None,
    ]


def test_only_named_kinds_are_retried():
    start = time.monotonic()
    assert delay_before_retry(POLICIES, None, 1, start) is None
    assert delay_before_retry(POLICIES, "Step.THROTTLING", 1, start) is None
    assert delay_before_retry(POLICIES, JOB_INTERNAL_ERROR, 1, start) == 5.0
    assert delay_before_retry(POLICIES, JOB_INTERNAL_ERROR, 2, start) is None


def test_expire_after_bounds_the_retry_window():
    assert delay_before_retry(POLICIES, JOB_INTERNAL_ERROR, 1, time.monotonic() - 61) is None
