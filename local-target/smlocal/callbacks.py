"""Callback steps' tokens: which step waits on each, and how it was completed.

A CallbackStep records its token here before it sends its SQS message; whoever completes it
(``SendPipelineExecutionStepSuccess``/``Failure``, from any process) writes the outcome, and
the step, polling its row, ends accordingly. Tokens are 10 letters and digits, as SageMaker's.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from smlocal.db import Database
from smlocal.errors import LocalTargetError

SCHEMA = """
CREATE TABLE IF NOT EXISTS callbacks (
    token TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL,
    step_name TEXT NOT NULL,
    queue_url TEXT NOT NULL,
    status TEXT NOT NULL,
    outputs TEXT NOT NULL DEFAULT '[]',
    failure_reason TEXT,
    request_token TEXT,
    created TEXT NOT NULL,
    ended TEXT
);
"""
WAITING, SUCCEEDED, FAILED = "Waiting", "Succeeded", "Failed"
_ALPHABET = string.ascii_letters + string.digits


class CallbackNotFound(LocalTargetError):
    """No step waits on this token (ResourceNotFound)."""


class CallbackDone(LocalTargetError):
    """The step of this token has already been completed (ConflictException)."""


@dataclass
class Callback:
    """One callback token and what became of it."""

    token: str
    execution_arn: str
    step_name: str
    queue_url: str
    status: str = WAITING
    outputs: list = field(default_factory=list)  # [{"Name", "Value"}] as sent
    failure_reason: Optional[str] = None


def new_token() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(10))


class CallbackStore:
    """The ``callbacks`` table of one state folder."""

    def __init__(self, home: Path):
        self.db = Database(Path(home) / "state.sqlite", SCHEMA)

    def create(self, execution_arn: str, step_name: str, queue_url: str) -> Callback:
        callback = Callback(new_token(), execution_arn, step_name, queue_url)
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO callbacks (token, execution_arn, step_name, queue_url, status, created)"
                " VALUES (?,?,?,?,?,?)",
                (
                    callback.token,
                    execution_arn,
                    step_name,
                    queue_url,
                    WAITING,
                    datetime.now(timezone.utc).isoformat(),
                ),
            )
        return callback

    def get(self, token: str) -> Callback:
        with self.db.reading() as conn:
            row = conn.execute("SELECT * FROM callbacks WHERE token=?", (token,)).fetchone()
        if row is None:
            raise CallbackNotFound(f"Callback token {token} does not exist")
        return Callback(
            token=row["token"],
            execution_arn=row["execution_arn"],
            step_name=row["step_name"],
            queue_url=row["queue_url"],
            status=row["status"],
            outputs=json.loads(row["outputs"]),
            failure_reason=row["failure_reason"],
        )

    def complete(
        self,
        token: str,
        status: str,
        outputs: Optional[list] = None,
        failure_reason: Optional[str] = None,
        request_token: Optional[str] = None,
    ) -> Callback:
        """Record success or failure once; a retry with the same ClientRequestToken is a no-op."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT * FROM callbacks WHERE token=?", (token,)).fetchone()
            if row is None:
                raise CallbackNotFound(f"Callback token {token} does not exist")
            if row["status"] != WAITING:
                if request_token and row["request_token"] == request_token:
                    return self.get(token)
                raise CallbackDone(
                    f"Step {row['step_name']} is already in a terminal status ({row['status']})"
                )
            conn.execute(
                "UPDATE callbacks SET status=?, outputs=?, failure_reason=?, request_token=?,"
                " ended=? WHERE token=?",
                (
                    status,
                    json.dumps(outputs or []),
                    failure_reason,
                    request_token,
                    datetime.now(timezone.utc).isoformat(),
                    token,
                ),
            )
        return self.get(token)

    def abandon(self, token: str, reason: str) -> None:
        """The step ended without a reply (stopped): later replies are refused."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE callbacks SET status=?, failure_reason=? WHERE token=? AND status=?",
                ("Stopped", reason, token, WAITING),
            )
