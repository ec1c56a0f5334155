"""Real-time endpoints on this machine: an HTTP model server per endpoint on 127.0.0.1.

``records`` keeps endpoint configurations and endpoints (SQLite), ``manager`` applies the API's
rules and starts, updates and stops endpoints, ``host`` is an endpoint's own long-lived process
(it owns the address and runs the model servers), ``worker`` is a model server (uvicorn and
Starlette, the inference container's ``/ping`` and ``/invocations``), ``serving`` answers
invocations as the built-in XGBoost and framework containers do, ``client`` forwards
InvokeEndpoint to a server. Endpoints outlive the process that created them until deleted
(``DeleteEndpoint``, ``endpoints stop``, or the end of the ``local_target`` test fixture).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Optional

from smlocal import config
from smlocal.endpoints.errors import EndpointError, EndpointNotFound, EndpointNotServing, ModelError
from smlocal.endpoints.manager import PORT_TAG, EndpointManager
from smlocal.endpoints.records import EndpointRecord

_managers: dict[tuple[str, str], EndpointManager] = {}
_lock = threading.Lock()

__all__ = [
    "PORT_TAG",
    "EndpointError",
    "EndpointManager",
    "EndpointNotFound",
    "EndpointNotServing",
    "EndpointRecord",
    "ModelError",
    "endpoints",
    "local_url",
    "manager_for",
    "stop_all",
]


def manager_for(home: Optional[Path] = None, region: Optional[str] = None) -> EndpointManager:
    """The endpoints of a state folder (default: the configured one) and region."""
    home = Path(home or config.home()).resolve()
    region = region or config.DEFAULT_REGION
    key = (str(home), region)
    with _lock:
        if key not in _managers:
            _managers[key] = EndpointManager(home, region)
        return _managers[key]


def endpoints(home: Optional[Path] = None) -> list[EndpointRecord]:
    """Every local endpoint of a state folder, all regions, with its URL and processes."""
    return manager_for(home).records.list(None)


def local_url(
    name: str, region: Optional[str] = None, home: Optional[Path] = None
) -> Optional[str]:
    """Where a local endpoint answers ``POST /invocations`` (for curl), or None."""
    record = manager_for(home, region).records.get(region or config.DEFAULT_REGION, name)
    return record.url if record is not None else None


def stop_all(home: Optional[Path] = None) -> list[str]:
    """Delete every local endpoint of a state folder (their servers drain and stop); their names."""
    return manager_for(home).stop_all()
