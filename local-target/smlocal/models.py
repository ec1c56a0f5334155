"""Models (CreateModel): the image, model data and environment a Transform step runs with."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from smlocal import config
from smlocal.db import Database
from smlocal.errors import LocalTargetError

SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    record TEXT NOT NULL,
    created TEXT NOT NULL
);
"""


class ModelNotFound(LocalTargetError):
    pass


class ModelStore:
    def __init__(self, db_path: Path, region: str, account: str):
        self.db = Database(db_path, SCHEMA)
        self.region, self.account = region, account

    def create(self, name: str, request: dict) -> dict:
        arn = config.arn(self.region, self.account, "model", name)
        record = {k: v for k, v in request.items() if k not in ("ModelName", "Tags")}
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM models WHERE lower(name)=lower(?)", (name,)).fetchone():
                raise LocalTargetError(f'Cannot create already existing model "{arn}".')
            conn.execute(
                "INSERT INTO models VALUES (?,?,?,?)",
                (name, arn, json.dumps(record), datetime.now(timezone.utc).isoformat()),
            )
        return self.describe(name)

    def describe(self, name: str) -> dict:
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM models WHERE lower(name)=lower(?)", (name,)
            ).fetchone()
        if row is None:
            raise ModelNotFound(f'Could not find model "{name}".')
        return {
            "ModelName": row["name"],
            "ModelArn": row["arn"],
            "CreationTime": datetime.fromisoformat(row["created"]),
            **json.loads(row["record"]),
        }

    def list(self) -> list[dict]:
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT name, arn, created FROM models ORDER BY created DESC"
            ).fetchall()
        return [
            {
                "ModelName": r["name"],
                "ModelArn": r["arn"],
                "CreationTime": datetime.fromisoformat(r["created"]),
            }
            for r in rows
        ]

    def delete(self, name: str) -> None:
        self.describe(name)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM models WHERE lower(name)=lower(?)", (name,))
