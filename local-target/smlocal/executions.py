"""Pipelines and their executions' history, in the state database.

The backend's records: what was upserted, each execution's status and parameters, and each
step's status, times, failure, metadata and properties (which later executions' caching reads).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Optional

from smlocal.db import Database, now, parse_time, pid_alive, to_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS pipelines (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    definition TEXT NOT NULL,
    role_arn TEXT,
    display_name TEXT,
    description TEXT,
    parallelism TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    version INTEGER NOT NULL DEFAULT 1,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS executions (
    arn TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    pipeline_name TEXT NOT NULL,
    status TEXT NOT NULL,
    display_name TEXT,
    description TEXT,
    parameters TEXT NOT NULL,
    definition TEXT NOT NULL,
    failure_reason TEXT,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    pid INTEGER,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    selective TEXT,
    experiment TEXT
);
CREATE TABLE IF NOT EXISTS steps (
    execution_arn TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    display_name TEXT,
    status TEXT NOT NULL,
    started TEXT,
    ended TEXT,
    failure_reason TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    properties TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    cache_key TEXT,
    cache_source TEXT,
    log_dir TEXT,
    selective_source TEXT,
    PRIMARY KEY (execution_arn, name)
);
CREATE INDEX IF NOT EXISTS steps_cache ON steps (cache_key, status);
"""
ACTIVE = ("Executing", "Stopping")
# Columns added since the first release: a state database made before gets them on open.
ADDED_COLUMNS = {
    "executions": {"selective": "TEXT", "experiment": "TEXT"},
    "steps": {"selective_source": "TEXT"},
}


@dataclass
class StepRecord:
    name: str
    type: str
    status: str
    started: Optional[datetime]
    ended: Optional[datetime]
    failure_reason: Optional[str]
    metadata: dict
    properties: Optional[dict]
    attempts: int
    cache_source: Optional[str]
    log_dir: Optional[str]
    display_name: Optional[str] = None
    selective_source: Optional[str] = None  # the execution whose results this step reused


class ExecutionStore:
    def __init__(self, db_path: Path):
        self.db = Database(db_path, SCHEMA)
        self._add_columns()

    def _add_columns(self) -> None:
        """Bring a state database of an earlier version up to this schema.

        Only when it lacks a column: a read-only state file of this version opens as it is.
        """
        with self.db.reading() as conn:
            missing = self._missing_columns(conn)
        if not missing:
            return
        with self.db.transaction() as conn:
            for table, column, kind in self._missing_columns(conn):
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    @staticmethod
    def _missing_columns(conn) -> list[tuple[str, str, str]]:
        missing = []
        for table, columns in ADDED_COLUMNS.items():
            have = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
            missing += [(table, c, kind) for c, kind in columns.items() if c not in have]
        return missing

    # pipelines
    def upsert_pipeline(
        self,
        name: str,
        arn: str,
        definition: str,
        role_arn: str,
        display_name: Optional[str],
        description: Optional[str],
        parallelism: Optional[dict],
        tags: list,
        create: bool,
    ) -> bool:
        """Create (``create``) or update a pipeline; False when that is not possible."""
        stamp = now().isoformat()
        with self.db.transaction() as conn:
            exists = conn.execute("SELECT 1 FROM pipelines WHERE name=?", (name,)).fetchone()
            if create:
                if exists:
                    return False
                conn.execute(
                    "INSERT INTO pipelines VALUES (?,?,?,?,?,?,?,?,1,?,?)",
                    (
                        name,
                        arn,
                        definition,
                        role_arn,
                        display_name or name,
                        description,
                        to_json(parallelism) if parallelism else None,
                        to_json(tags),
                        stamp,
                        stamp,
                    ),
                )
                return True
            if not exists:
                return False
            conn.execute(
                "UPDATE pipelines SET definition=?, role_arn=?, display_name=COALESCE(?, display_name), "
                "description=COALESCE(?, description), parallelism=COALESCE(?, parallelism), "
                "version=version+1, modified=? WHERE name=?",
                (
                    definition,
                    role_arn,
                    display_name,
                    description,
                    to_json(parallelism) if parallelism else None,
                    stamp,
                    name,
                ),
            )
            return True

    def pipeline(self, name_or_arn: str) -> Optional[dict]:
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM pipelines WHERE name=? OR arn=?", (name_or_arn, name_or_arn)
            ).fetchone()
        return dict(row) if row else None

    def pipelines(self) -> list[dict]:
        with self.db.reading() as conn:
            return [dict(r) for r in conn.execute("SELECT * FROM pipelines ORDER BY created DESC")]

    def delete_pipeline(self, name: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM pipelines WHERE name=?", (name,))

    def set_tags(self, arn: str, tags: list) -> bool:
        with self.db.transaction() as conn:
            return (
                conn.execute(
                    "UPDATE pipelines SET tags=? WHERE arn=?", (to_json(tags), arn)
                ).rowcount
                > 0
            )

    # executions
    def create_execution(
        self,
        arn: str,
        execution_id: str,
        pipeline_name: str,
        parameters: list,
        definition: str,
        display_name: Optional[str],
        description: Optional[str],
        selective: Optional[dict] = None,
        experiment: Optional[dict] = None,
    ) -> None:
        """Record a new execution (Executing); ``selective`` and ``experiment`` as Describe shows them."""
        stamp = now().isoformat()
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO executions (arn, id, pipeline_name, status, display_name, description, parameters,"
                " definition, pid, created, modified, selective, experiment)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    arn,
                    execution_id,
                    pipeline_name,
                    "Executing",
                    display_name or f"execution-{execution_id}",
                    description,
                    to_json(parameters),
                    definition,
                    os.getpid(),
                    stamp,
                    stamp,
                    to_json(selective) if selective else None,
                    to_json(experiment) if experiment else None,
                ),
            )

    def finish_execution(self, arn: str, status: str, failure_reason: Optional[str] = None) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE executions SET status=?, failure_reason=?, modified=? WHERE arn=?",
                (status, failure_reason, now().isoformat(), arn),
            )

    def request_stop(self, arn: str) -> bool:
        with self.db.transaction() as conn:
            return (
                conn.execute(
                    "UPDATE executions SET stop_requested=1, status='Stopping', modified=? "
                    "WHERE arn=? AND status='Executing'",
                    (now().isoformat(), arn),
                ).rowcount
                > 0
            )

    def stop_requested(self, arn: str) -> bool:
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT stop_requested FROM executions WHERE arn=?", (arn,)
            ).fetchone()
        return bool(row and row[0])

    def execution(self, arn: str) -> Optional[dict]:
        with self.db.reading() as conn:
            row = conn.execute("SELECT * FROM executions WHERE arn=?", (arn,)).fetchone()
        if row is None:
            return None
        record = dict(row)
        if record["status"] in ACTIVE and not pid_alive(record["pid"]):
            record.update(self._mark_lost(record))
        return record

    def _mark_lost(self, record: dict) -> dict:
        """An execution whose process ended unfinished: it and its unfinished steps end too.

        Stopped if a stop was asked for (the process ended while stopping), else Failed; each
        step still Executing or Stopping gets the same end and reason, none stays running.
        """
        stopping = bool(record["stop_requested"])
        status = "Stopped" if stopping else "Failed"
        reason = f"the process running this execution (pid {record['pid']}) ended before it " + (
            "had stopped it" if stopping else "finished"
        )
        if self.db.read_only:  # nothing can be recorded: show it as it is
            return {"status": status, "failure_reason": reason}
        stamp = now().isoformat()
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE executions SET status=?, failure_reason=?, modified=? WHERE arn=?"
                " AND status IN ('Executing', 'Stopping')",
                (status, reason, stamp, record["arn"]),
            )
            conn.execute(
                "UPDATE steps SET status=?, failure_reason=?, ended=? WHERE execution_arn=?"
                " AND status IN ('Executing', 'Stopping', 'Starting')",
                (status, f"Step ended with its execution: {reason}", stamp, record["arn"]),
            )
        return {"status": status, "failure_reason": reason}

    def executions(self, pipeline_name: str) -> list[dict]:
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT arn FROM executions WHERE pipeline_name=? ORDER BY created DESC",
                (pipeline_name,),
            ).fetchall()
        return [self.execution(r["arn"]) for r in rows]

    # steps
    def step_started(
        self,
        execution_arn: str,
        name: str,
        type_: str,
        display_name: Optional[str],
        log_dir: Optional[str],
    ) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO steps (execution_arn, name, type, display_name, status, started, attempts, log_dir)"
                " VALUES (?,?,?,?,?,?,1,?) ON CONFLICT (execution_arn, name) DO UPDATE SET"
                " status=excluded.status, attempts=steps.attempts+1",
                (execution_arn, name, type_, display_name, "Executing", now().isoformat(), log_dir),
            )

    def step_reused(self, execution_arn: str, source: StepRecord, source_arn: str) -> None:
        """A step of a selective execution that was not selected: its source run's results."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO steps (execution_arn, name, type, display_name, status, started, ended,"
                " metadata, properties, attempts, log_dir, selective_source)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    execution_arn,
                    source.name,
                    source.type,
                    source.display_name,
                    "Succeeded",
                    source.started.isoformat() if source.started else None,
                    source.ended.isoformat() if source.ended else None,
                    to_json(source.metadata or {}),
                    to_json(source.properties),
                    source.attempts,
                    source.log_dir,
                    source_arn,
                ),
            )

    def step_metadata(self, execution_arn: str, name: str, metadata: dict) -> None:
        """Metadata a running step shows already (a callback step's token and queue)."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE steps SET metadata=? WHERE execution_arn=? AND name=?",
                (to_json(metadata), execution_arn, name),
            )

    def step_retried(self, execution_arn: str, name: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE steps SET attempts=attempts+1 WHERE execution_arn=? AND name=?",
                (execution_arn, name),
            )

    def step_finished(
        self,
        execution_arn: str,
        name: str,
        status: str,
        *,
        failure_reason: Optional[str] = None,
        metadata: Optional[dict] = None,
        properties: Optional[dict] = None,
        cache_key: Optional[str] = None,
        cache_source: Optional[str] = None,
    ) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE steps SET status=?, ended=?, failure_reason=?, metadata=?, properties=?, cache_key=?,"
                " cache_source=? WHERE execution_arn=? AND name=?",
                (
                    status,
                    now().isoformat(),
                    failure_reason,
                    to_json(metadata or {}),
                    to_json(properties) if properties is not None else None,
                    cache_key,
                    cache_source,
                    execution_arn,
                    name,
                ),
            )

    def steps(self, execution_arn: str) -> list[StepRecord]:
        """The execution's steps, newest first (an execution found lost is marked first)."""
        execution = self.execution(execution_arn)
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT * FROM steps WHERE execution_arn=? ORDER BY started DESC, rowid DESC",
                (execution_arn,),
            ).fetchall()
        records = [
            StepRecord(
                name=r["name"],
                type=r["type"],
                status=r["status"],
                started=parse_time(r["started"]),
                ended=parse_time(r["ended"]),
                failure_reason=r["failure_reason"],
                metadata=json.loads(r["metadata"]),
                properties=json.loads(r["properties"]) if r["properties"] else None,
                attempts=r["attempts"],
                cache_source=r["cache_source"],
                log_dir=r["log_dir"],
                display_name=r["display_name"],
                selective_source=r["selective_source"],
            )
            for r in rows
        ]
        if execution and execution["status"] not in ACTIVE:  # read-only state: not recorded
            for record in records:
                if record.status in ACTIVE:
                    record.status = execution["status"]
                    record.failure_reason = execution["failure_reason"]
        return records

    def cached_step(
        self, pipeline_name: str, step_name: str, cache_key: str, not_before: Optional[datetime]
    ) -> Optional[tuple[str, dict, dict]]:
        """(execution arn, properties, metadata) of the newest reusable run of a step."""
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT s.execution_arn, s.properties, s.metadata, s.ended FROM steps s JOIN executions e"
                " ON e.arn = s.execution_arn WHERE e.pipeline_name=? AND s.name=? AND s.cache_key=?"
                " AND s.status='Succeeded' AND s.cache_source IS NULL ORDER BY s.ended DESC",
                (pipeline_name, step_name, cache_key),
            ).fetchall()
        for row in rows:
            if not_before is None or parse_time(row["ended"]) >= not_before:
                return (
                    row["execution_arn"],
                    json.loads(row["properties"]),
                    json.loads(row["metadata"]),
                )
        return None
