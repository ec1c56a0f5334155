"""Which container mechanism steps get on this machine, and what each one can run.

``PIPELINES_LOCAL_CONTAINER`` chooses: ``auto`` (the default: Linux namespaces where the
kernel allows them, else the Python path map), ``namespaces`` (required: a job fails, by
name, where they are not allowed) or ``map`` (the path map, even where namespaces work).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from smlocal.containers import launch, namespace

ENV_VAR = "PIPELINES_LOCAL_CONTAINER"
SETTINGS = ("auto", launch.NAMESPACES, launch.MAP)


class ContainerUnavailable(Exception):
    """The mechanism asked for cannot run here."""


@dataclass(frozen=True)
class Mechanism:
    name: str  # launch.NAMESPACES or launch.MAP
    user_namespace: bool = True
    why_map: str = ""  # why namespaces are not used, when they are not


def current() -> Mechanism:
    """The mechanism this process gives its jobs (namespaces are probed once per process)."""
    setting = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if setting not in SETTINGS:
        raise ContainerUnavailable(f"{ENV_VAR}={setting!r}: expected one of {', '.join(SETTINGS)}")
    if setting == launch.MAP:
        return Mechanism(launch.MAP, why_map=f"{ENV_VAR}=map")
    found = namespace.availability()
    if found.get("available"):
        return Mechanism(launch.NAMESPACES, user_namespace=bool(found.get("user_namespace")))
    if setting == launch.NAMESPACES:
        raise ContainerUnavailable(
            f"{ENV_VAR}=namespaces, but this machine does not allow user and mount namespaces "
            f"({found.get('reason')})"
        )
    return Mechanism(launch.MAP, why_map=f"namespaces are not available: {found.get('reason')}")


def unrunnable(command: list[str], mechanism: Optional[Mechanism] = None) -> Optional[str]:
    """Why ``command`` cannot run with the mechanism (None when it can)."""
    mechanism = mechanism or current()
    if mechanism.name == launch.NAMESPACES or (command and launch.is_python(command[0])):
        return None  # a Python child sees the map too (it installs it at start-up)
    return (
        f"entry point {command[0]!r} is not supported locally with the Python path map "
        f"({mechanism.why_map}): only Python scripts see /opt/ml through it; other programs "
        "need the container layout of Linux user and mount namespaces"
    )
