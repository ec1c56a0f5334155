"""Endpoint configurations and endpoints in the state database.

Any process reads and writes them: the one that created an endpoint, the endpoint's own host
(which moves it from Creating to InService, through updates, or to Failed), and whoever
describes, invokes or deletes it later. Names are unique per region and compared without
case, as SageMaker compares them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from smlocal.db import Database
from smlocal.endpoints import processes

SCHEMA = """
CREATE TABLE IF NOT EXISTS endpoint_configs (
    region TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    request TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (region, key)
);
CREATE TABLE IF NOT EXISTS endpoints (
    region TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    config_name TEXT NOT NULL,
    status TEXT NOT NULL,
    pending_config TEXT,
    pending_since TEXT,
    failure_reason TEXT,
    port INTEGER,
    host_token TEXT NOT NULL,
    host_pid INTEGER,
    host_started TEXT,
    worker_pid INTEGER,
    generation INTEGER NOT NULL DEFAULT 0,
    variants TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    folder TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    PRIMARY KEY (region, key)
);
"""
SERVING = ("InService", "Updating")  # a model server answers invocations
RUNNING = ("Creating", "InService", "Updating", "SystemUpdating")  # the host should be alive
START_GRACE_SECONDS = 30.0  # how long a host may take to report its process id


def now() -> datetime:
    return datetime.now(timezone.utc)


def _time(text: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(text) if text else None


@dataclass
class EndpointConfigRecord:
    """One CreateEndpointConfig request, kept as it was asked."""

    name: str
    arn: str
    region: str
    request: dict
    created: datetime = field(default_factory=now)


@dataclass
class EndpointRecord:
    """One endpoint: what it serves, where, and the processes serving it."""

    name: str
    arn: str
    region: str
    config_name: str
    folder: Path
    host_token: str
    status: str = "Creating"
    pending_config: Optional[str] = None  # the config an update is deploying
    pending_since: Optional[datetime] = None
    failure_reason: Optional[str] = None
    port: Optional[int] = None
    host_pid: Optional[int] = None
    host_started: Optional[str] = None
    worker_pid: Optional[int] = None
    generation: int = 0
    variants: list = field(default_factory=list)  # Describe's ProductionVariants of what is served
    tags: list = field(default_factory=list)
    created: datetime = field(default_factory=now)
    modified: datetime = field(default_factory=now)

    @property
    def url(self) -> Optional[str]:
        """Where the endpoint's model server answers ``POST /invocations`` (for curl)."""
        return f"http://127.0.0.1:{self.port}/invocations" if self.port else None

    @property
    def host_alive(self) -> bool:
        if self.host_pid is None:  # being started: give the starter its moment
            return (now() - self.created).total_seconds() < START_GRACE_SECONDS
        return processes.alive(self.host_pid, self.host_started)


def _json(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))


def _endpoint(row) -> EndpointRecord:
    return EndpointRecord(
        name=row["name"],
        arn=row["arn"],
        region=row["region"],
        config_name=row["config_name"],
        folder=Path(row["folder"]),
        host_token=row["host_token"],
        status=row["status"],
        pending_config=row["pending_config"],
        pending_since=_time(row["pending_since"]),
        failure_reason=row["failure_reason"],
        port=row["port"],
        host_pid=row["host_pid"],
        host_started=row["host_started"],
        worker_pid=row["worker_pid"],
        generation=row["generation"],
        variants=json.loads(row["variants"]),
        tags=json.loads(row["tags"]),
        created=_time(row["created"]),
        modified=_time(row["modified"]),
    )


LOST = "the endpoint's server process (pid {pid}) ended unexpectedly; see {log}"


class EndpointStore:
    """The ``endpoint_configs`` and ``endpoints`` tables."""

    def __init__(self, db_path: Path):
        self.db = Database(db_path, SCHEMA)

    # endpoint configurations
    def create_config(self, record: EndpointConfigRecord) -> bool:
        """Insert a configuration; False when the name is taken."""
        with self.db.transaction() as conn:
            if conn.execute(
                "SELECT 1 FROM endpoint_configs WHERE region=? AND key=?",
                (record.region, record.name.lower()),
            ).fetchone():
                return False
            conn.execute(
                "INSERT INTO endpoint_configs VALUES (?,?,?,?,?,?)",
                (
                    record.region,
                    record.name.lower(),
                    record.name,
                    record.arn,
                    _json(record.request),
                    record.created.isoformat(),
                ),
            )
        return True

    def config(self, region: str, name: str) -> Optional[EndpointConfigRecord]:
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM endpoint_configs WHERE region=? AND key=?", (region, name.lower())
            ).fetchone()
        if row is None:
            return None
        return EndpointConfigRecord(
            name=row["name"],
            arn=row["arn"],
            region=row["region"],
            request=json.loads(row["request"]),
            created=_time(row["created"]),
        )

    def configs(self, region: str) -> list[EndpointConfigRecord]:
        with self.db.reading() as conn:
            keys = [
                r["key"]
                for r in conn.execute(
                    "SELECT key FROM endpoint_configs WHERE region=? ORDER BY created", (region,)
                )
            ]
        return [c for c in (self.config(region, k) for k in keys) if c is not None]

    def delete_config(self, region: str, name: str) -> bool:
        with self.db.transaction() as conn:
            return (
                conn.execute(
                    "DELETE FROM endpoint_configs WHERE region=? AND key=?", (region, name.lower())
                ).rowcount
                > 0
            )

    # endpoints
    def create(self, record: EndpointRecord) -> bool:
        """Insert an endpoint; False when the name is taken."""
        with self.db.transaction() as conn:
            if conn.execute(
                "SELECT 1 FROM endpoints WHERE region=? AND key=?",
                (record.region, record.name.lower()),
            ).fetchone():
                return False
            conn.execute(
                "INSERT INTO endpoints (region, key, name, arn, config_name, status, port,"
                " host_token, tags, folder, created, modified) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    record.region,
                    record.name.lower(),
                    record.name,
                    record.arn,
                    record.config_name,
                    record.status,
                    record.port,
                    record.host_token,
                    _json(record.tags),
                    str(record.folder),
                    record.created.isoformat(),
                    record.modified.isoformat(),
                ),
            )
        return True

    def raw(self, region: str, name: str) -> Optional[EndpointRecord]:
        """The endpoint as recorded, whether or not its processes still run."""
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM endpoints WHERE region=? AND key=?", (region, name.lower())
            ).fetchone()
        return _endpoint(row) if row is not None else None

    def get(self, region: str, name: str) -> Optional[EndpointRecord]:
        """The endpoint; one whose host has died while it should run is marked Failed first."""
        record = self.raw(region, name)
        if record is not None and record.status in RUNNING and not record.host_alive:
            reason = LOST.format(pid=record.host_pid, log=record.folder / "host.log")
            self.set(
                region,
                name,
                where={"host_token": record.host_token, "status": record.status},
                status="Failed",
                failure_reason=reason,
                pending_config=None,
                pending_since=None,
            )
            record = self.raw(region, name)
        return record

    def list(self, region: Optional[str] = None) -> list[EndpointRecord]:
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT region, key FROM endpoints WHERE (? IS NULL OR region=?) ORDER BY created",
                (region, region),
            ).fetchall()
        found = (self.get(r["region"], r["key"]) for r in rows)
        return [r for r in found if r is not None]

    def set(self, region: str, name: str, where: Optional[dict] = None, **values: Any) -> bool:
        """Update fields (JSON for lists, ISO for times) if the row matches ``where``; whether it did."""
        encoded = {
            k: (
                _json(v)
                if isinstance(v, (list, dict))
                else v.isoformat() if isinstance(v, datetime) else v
            )
            for k, v in values.items()
        }
        encoded["modified"] = now().isoformat()
        assignments = ", ".join(f"{k}=?" for k in encoded)
        conditions = "".join(f" AND {k}=?" for k in (where or {}))
        with self.db.transaction() as conn:
            return (
                conn.execute(
                    f"UPDATE endpoints SET {assignments} WHERE region=? AND key=?{conditions}",
                    (*encoded.values(), region, name.lower(), *(where or {}).values()),
                ).rowcount
                > 0
            )

    def delete(self, region: str, name: str) -> bool:
        with self.db.transaction() as conn:
            return (
                conn.execute(
                    "DELETE FROM endpoints WHERE region=? AND key=?", (region, name.lower())
                ).rowcount
                > 0
            )
