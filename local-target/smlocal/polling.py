"""Poll loops that wake when what they wait for changes, instead of after a fixed delay.

The SDK waits on jobs and executions by describing them, then sleeping 5-60 s (botocore's
waiters, the SDK's own loops). On SageMaker that delay is small next to a job; locally a job
takes seconds. While the target is on, a poll loop's sleep ends early as soon as the resource
its thread last described has changed status (or is already final), so ``execution.wait()``
and ``fit()`` return within a moment of the end.

A sleep cut short moves the loop's clock on by what was left of it: loops that describe again
only after so many seconds by ``time.time()`` (the SDK's log tailing: every 30 s) see the time
they expect pass, so they too end at once. The clock is the poll loops' own (per thread, in the
modules below); everyone else's ``time`` is untouched, and all is real while the target is off.
"""

from __future__ import annotations

import threading
import time as _time
from dataclasses import dataclass
from typing import Optional

# Modules whose ``time.sleep`` is a poll loop's.
POLLING_MODULES = ("botocore.waiter", "sagemaker.session", "sagemaker.core.helper.session_helper")
FINAL = {"Completed", "Failed", "Stopped", "Succeeded"}
CHECK_SECONDS = 0.1


@dataclass(frozen=True)
class Described:
    """The last Describe* answer of a thread that had a status in it."""

    service: str
    operation: str
    params: dict
    region: Optional[str]
    status: tuple


_last = threading.local()


def status_of(response: dict) -> tuple:
    """The response's top-level ``*Status`` fields: what a poll loop watches."""
    return tuple(
        sorted((k, v) for k, v in response.items() if k.endswith("Status") and isinstance(v, str))
    )


def remember(service: str, operation: str, params: dict, region: Optional[str], response: dict):
    """Called by the boundary for every answer: keep this thread's last described status."""
    if not operation.startswith("Describe"):
        return
    status = status_of(response)
    if status:
        _last.described = Described(service, operation, dict(params), region, status)


def sleep(seconds: float) -> None:
    """``time.sleep`` for poll loops: ends early when the awaited resource has changed."""
    from smlocal import boundary, services

    described: Optional[Described] = getattr(_last, "described", None)
    if not boundary.active() or described is None:
        _time.sleep(seconds)
        return
    if any(value in FINAL for _, value in described.status):
        _skip(seconds)  # nothing more will happen to it
        return
    deadline = _time.monotonic() + seconds
    while True:
        remaining = deadline - _time.monotonic()
        if remaining <= 0:
            return
        _time.sleep(min(CHECK_SECONDS, remaining))
        try:
            now = services.call(
                described.service, described.operation, dict(described.params), described.region
            )
        except Exception:  # noqa: BLE001 - the loop's own call will report it
            return
        if status_of(now) != described.status:
            _skip(deadline - _time.monotonic())
            return


def _skip(seconds: float) -> None:
    """Move this thread's poll-loop clock on by the part of a sleep that was not slept."""
    _last.offset = getattr(_last, "offset", 0.0) + max(0.0, seconds)


def _offset() -> float:
    return getattr(_last, "offset", 0.0)


class _Clock:
    """The ``time`` module as poll loops see it: the real one, but for three functions.

    ``sleep`` is the one above; ``time`` and ``monotonic`` move on by the sleeps it cut short.
    """

    sleep = staticmethod(sleep)

    @staticmethod
    def time() -> float:
        return _time.time() + _offset()

    @staticmethod
    def monotonic() -> float:
        return _time.monotonic() + _offset()

    def __getattr__(self, name):
        return getattr(_time, name)


CLOCK = _Clock()


def install() -> None:
    """Give the poll loops' modules the clock, now or when they are imported."""
    from smlocal import imports

    for name in POLLING_MODULES:
        imports.when_imported(name, _give_clock)


def _give_clock(module) -> None:
    if getattr(module, "time", None) is _time:
        module.time = CLOCK
