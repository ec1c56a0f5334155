"""Turning the local target on and off: for a process, a block of code, or a test.

On means: every botocore client answers from the local services (see ``boundary``), and the
environment says so, so the processes this one starts (step processes, a user's own CLI,
job scripts' children) are on too: ``PIPELINES_TARGET=local`` turns on any Python process of
an environment where the local target is installed (``smlocal.pth``).

The environment also gets placeholder credentials and a default region: botocore then never
looks for real credentials (no instance-metadata lookups, no credential processes), needs no
configuration, and nothing signed with a real identity can exist while the target is on.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Optional

from smlocal import boundary, config, polling, sdk

# Set while on; the values a block of code found are put back when it ends.
_ENVIRONMENT = {
    config.TARGET_ENV: "local",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_EC2_METADATA_DISABLED": "true",
}
_DROPPED = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
_lock = threading.Lock()


def enabled() -> bool:
    """True while the local target answers this process's AWS calls."""
    return boundary.active()


def enable() -> None:
    """Turn the local target on for this process and every process it starts, for good."""
    _apply_environment()
    boundary.activate()
    sdk.quiet_telemetry()
    sdk.validate_config_once()
    polling.install()


def disable() -> None:
    """Turn the local target off in this process (the environment is left as it is)."""
    while boundary.active():
        boundary.deactivate()


def _apply_environment() -> dict[str, Optional[str]]:
    """Set the environment of the local target; returns what it replaced."""
    names = list(_ENVIRONMENT) + list(_DROPPED) + ["AWS_DEFAULT_REGION"]
    with _lock:
        previous = {name: os.environ.get(name) for name in names}
        os.environ.update(_ENVIRONMENT)
        for name in _DROPPED:
            os.environ.pop(name, None)
        if not (os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")):
            os.environ["AWS_DEFAULT_REGION"] = config.DEFAULT_REGION
    return previous


def _restore_environment(previous: dict[str, Optional[str]]) -> None:
    with _lock:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class local_target(contextlib.ContextDecorator):  # noqa: N801 - used like contextlib's helpers
    """On inside the block (or the decorated function), off again after.

    ``home`` puts the state (object store, records) in that folder for the block.
    Clients made inside the block, or after ``import smlocal``, are served locally.
    """

    def __init__(self, home: Optional[os.PathLike] = None):
        self.home = home
        self._stack: list[dict[str, Optional[str]]] = []

    def __enter__(self) -> "local_target":
        previous = _apply_environment()
        if self.home is not None:
            previous.setdefault(config.HOME_ENV, os.environ.get(config.HOME_ENV))
            os.environ[config.HOME_ENV] = str(self.home)
        self._stack.append(previous)
        boundary.activate()
        sdk.quiet_telemetry()
        sdk.validate_config_once()
        polling.install()
        return self

    def __exit__(self, *exc) -> None:
        boundary.deactivate()
        _restore_environment(self._stack.pop())
