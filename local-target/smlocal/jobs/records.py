"""Job records in the state database: what was asked, where it stands, what it left.

One row per job of any kind (processing, training, transform), whoever started it; names are
unique per kind and compared without case, as SageMaker compares them. Any process reads and
writes them, so a job started by one process is described and stopped through another.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Optional

from smlocal.db import Database, now, parse_time, pid_alive, to_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    region TEXT NOT NULL,
    status TEXT NOT NULL,
    secondary_status TEXT,
    transitions TEXT NOT NULL DEFAULT '[]',
    request TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    result TEXT NOT NULL DEFAULT '{}',
    failure_reason TEXT,
    failure_kind TEXT,
    work_dir TEXT NOT NULL,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    pid INTEGER,
    created TEXT NOT NULL,
    started TEXT,
    ended TEXT,
    modified TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (kind, created);
"""
ACTIVE = ("InProgress", "Stopping")
FINAL = ("Completed", "Failed", "Stopped")
LOST = "the process running this job ended before the job finished"


@dataclass
class JobRecord:
    """One job. ``request`` is its Create* request; ``result`` the Describe fields its run added."""

    kind: str
    name: str
    arn: str
    region: str
    request: dict
    work_dir: Path
    status: str = "InProgress"
    secondary_status: Optional[str] = None
    transitions: list[dict] = field(default_factory=list)
    tags: list = field(default_factory=list)
    result: dict = field(default_factory=dict)
    failure_reason: Optional[str] = None
    failure_kind: Optional[str] = None  # the retry category of a failure (see ``retries``)
    stop_requested: bool = False
    pid: Optional[int] = None
    created: datetime = field(default_factory=now)
    started: Optional[datetime] = None
    ended: Optional[datetime] = None
    modified: datetime = field(default_factory=now)

    @property
    def log_dir(self) -> Path:
        return Path(self.work_dir) / "logs"

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


def _record(row) -> JobRecord:
    transitions = json.loads(row["transitions"])
    for transition in transitions:
        for key in ("StartTime", "EndTime"):
            if key in transition:
                transition[key] = parse_time(transition[key])
    return JobRecord(
        kind=row["kind"],
        name=row["name"],
        arn=row["arn"],
        region=row["region"],
        request=json.loads(row["request"]),
        work_dir=Path(row["work_dir"]),
        status=row["status"],
        secondary_status=row["secondary_status"],
        transitions=transitions,
        tags=json.loads(row["tags"]),
        result=json.loads(row["result"]),
        failure_reason=row["failure_reason"],
        failure_kind=row["failure_kind"],
        stop_requested=bool(row["stop_requested"]),
        pid=row["pid"],
        created=parse_time(row["created"]),
        started=parse_time(row["started"]),
        ended=parse_time(row["ended"]),
        modified=parse_time(row["modified"]),
    )


class JobStore:
    """The ``jobs`` table; every change stamps ``modified`` (LastModifiedTime)."""

    def __init__(self, db_path: Path):
        self.db = Database(db_path, SCHEMA)

    def create(self, record: JobRecord) -> bool:
        """Insert a new job; False when the kind already has a job of that name."""
        with self.db.transaction() as conn:
            exists = conn.execute(
                "SELECT 1 FROM jobs WHERE kind=? AND key=?", (record.kind, record.name.lower())
            ).fetchone()
            if exists:
                return False
            conn.execute(
                "INSERT INTO jobs (kind, key, name, arn, region, status, secondary_status, transitions,"
                " request, tags, work_dir, pid, created, modified) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    record.kind,
                    record.name.lower(),
                    record.name,
                    record.arn,
                    record.region,
                    record.status,
                    record.secondary_status,
                    to_json(record.transitions),
                    to_json(record.request),
                    to_json(record.tags),
                    str(record.work_dir),
                    os.getpid(),
                    record.created.isoformat(),
                    record.modified.isoformat(),
                ),
            )
        return True

    def get(self, kind: str, name: str) -> Optional[JobRecord]:
        """The job, or None; a job whose process died unfinished is marked Failed first."""
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM jobs WHERE kind=? AND key=?", (kind, name.lower())
            ).fetchone()
        if row is None:
            return None
        record = _record(row)
        if record.active and not pid_alive(record.pid):
            self.finish(kind, name, "Failed", failure_reason=f"InternalServerError: {LOST}")
            return self.get(kind, name)
        return record

    def list(self, kind: str, region: Optional[str] = None) -> list[JobRecord]:
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT key FROM jobs WHERE kind=? AND (? IS NULL OR region=?) ORDER BY created",
                (kind, region, region),
            ).fetchall()
        return [r for r in (self.get(kind, row["key"]) for row in rows) if r is not None]

    def started(self, kind: str, name: str) -> None:
        self._update(kind, name, "started=?", (now().isoformat(),))

    def advance(self, kind: str, name: str, secondary: str, message: str) -> None:
        """Move to a new secondary status: the last transition ends, a new one starts."""
        stamp = now()
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT transitions FROM jobs WHERE kind=? AND key=?", (kind, name.lower())
            ).fetchone()
            transitions = json.loads(row["transitions"]) if row else []
            if transitions and transitions[-1]["Status"] == secondary:
                return
            if transitions:
                transitions[-1].setdefault("EndTime", stamp.isoformat())
            transitions.append(
                {"Status": secondary, "StartTime": stamp.isoformat(), "StatusMessage": message}
            )
            conn.execute(
                "UPDATE jobs SET secondary_status=?, transitions=?, modified=? WHERE kind=? AND key=?",
                (secondary, to_json(transitions), stamp.isoformat(), kind, name.lower()),
            )

    def request_stop(self, kind: str, name: str) -> bool:
        """Move an InProgress job to Stopping; False when the job is not running."""
        with self.db.transaction() as conn:
            return (
                conn.execute(
                    "UPDATE jobs SET stop_requested=1, status='Stopping', modified=?"
                    " WHERE kind=? AND key=? AND status='InProgress'",
                    (now().isoformat(), kind, name.lower()),
                ).rowcount
                > 0
            )

    def stop_requested(self, kind: str, name: str) -> bool:
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT stop_requested FROM jobs WHERE kind=? AND key=?", (kind, name.lower())
            ).fetchone()
        return bool(row and row[0])

    def finish(
        self,
        kind: str,
        name: str,
        status: str,
        *,
        result: Optional[dict] = None,
        failure_reason: Optional[str] = None,
        failure_kind: Optional[str] = None,
    ) -> None:
        stamp = now().isoformat()
        self._update(
            kind,
            name,
            "status=?, result=?, failure_reason=?, failure_kind=?, ended=?, started=COALESCE(started, ?)",
            (status, to_json(result or {}), failure_reason, failure_kind, stamp, stamp),
        )

    def _update(self, kind: str, name: str, assignments: str, values: tuple) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                f"UPDATE jobs SET {assignments}, modified=? WHERE kind=? AND key=?",
                (*values, now().isoformat(), kind, name.lower()),
            )
