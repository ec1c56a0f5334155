"""Lineage entities and their associations in the state database.

Four kinds of entity, as SageMaker has them: artifacts (URI-addressable things: data sets,
code, images, models, model packages), actions (an approval, a deployment), contexts (an
endpoint, a model package group) and trial components (jobs). An association is a directed
edge between two of them. Entities made by the local target are found again rather than made
twice: an artifact is one URI with one content (same URI, new bytes: a new artifact), the
others are one name each.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from smlocal import config
from smlocal.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS lineage_entities (
    arn TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    key TEXT NOT NULL,
    type TEXT,
    source_uri TEXT,
    content_hash TEXT,
    record TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS lineage_keys ON lineage_entities (kind, region, key);
CREATE INDEX IF NOT EXISTS lineage_sources ON lineage_entities (source_uri);
CREATE TABLE IF NOT EXISTS lineage_associations (
    source_arn TEXT NOT NULL,
    destination_arn TEXT NOT NULL,
    association_type TEXT,
    created TEXT NOT NULL,
    PRIMARY KEY (source_arn, destination_arn)
);
CREATE INDEX IF NOT EXISTS lineage_destinations ON lineage_associations (destination_arn);
"""
ARTIFACT, ACTION, CONTEXT, TRIAL_COMPONENT = "Artifact", "Action", "Context", "TrialComponent"
# kind -> (ARN resource, the API's name prefix: ArtifactName, ActionArn, ...)
KINDS = {
    ARTIFACT: ("artifact", "Artifact"),
    ACTION: ("action", "Action"),
    CONTEXT: ("context", "Context"),
    TRIAL_COMPONENT: ("experiment-trial-component", "TrialComponent"),
}
# what ListAssociations' SourceType/DestinationType may also name an entity by
KIND_ALIASES = {TRIAL_COMPONENT: ("TrialComponent", "ExperimentTrialComponent")}


class LineageNotFound(LookupError):
    """No such entity (ResourceNotFound)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _json(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))


@dataclass
class Entity:
    """One lineage entity; ``record`` holds its Describe fields but times and names."""

    arn: str
    kind: str
    region: str
    key: str
    type: Optional[str]
    source_uri: Optional[str]
    content_hash: Optional[str] = None
    record: dict = field(default_factory=dict)
    created: datetime = field(default_factory=_now)
    modified: datetime = field(default_factory=_now)

    @property
    def name(self) -> Optional[str]:
        return self.record.get(f"{KINDS[self.kind][1]}Name")

    @property
    def association_type(self) -> Optional[str]:
        """How associations name this entity's type (a job's trial component: its source type)."""
        if self.kind == TRIAL_COMPONENT:
            return (self.record.get("Source") or {}).get("SourceType")
        return self.type

    def matches_type(self, wanted: str) -> bool:
        return wanted in (
            self.type,
            self.association_type,
            self.kind,
            *KIND_ALIASES.get(self.kind, ()),
        )

    def describe(self) -> dict:
        prefix = KINDS[self.kind][1]
        times = {
            k: datetime.fromisoformat(v)
            for k, v in self.record.items()
            if k in ("StartTime", "EndTime") and isinstance(v, str)
        }
        return {
            **self.record,
            **times,
            f"{prefix}Arn": self.arn,
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
        }

    def vertex(self) -> dict:
        return {"Arn": self.arn, "Type": self.type, "LineageType": self.kind}


def _entity(row) -> Entity:
    return Entity(
        arn=row["arn"],
        kind=row["kind"],
        region=row["region"],
        key=row["key"],
        type=row["type"],
        source_uri=row["source_uri"],
        content_hash=row["content_hash"],
        record=json.loads(row["record"]),
        created=datetime.fromisoformat(row["created"]),
        modified=datetime.fromisoformat(row["modified"]),
    )


def artifact_key(uri: str, content_hash: Optional[str]) -> str:
    """An artifact's id: its URI and content (SageMaker's artifact ids are 32 hex digits)."""
    return hashlib.sha256(f"{uri}\n{content_hash or ''}".encode()).hexdigest()[:32]


class LineageStore:
    """The entities and associations of one state folder and region."""

    def __init__(self, db_path: Path, region: str, account: str = config.ACCOUNT_ID):
        self.db = Database(db_path, SCHEMA)
        self.region, self.account = region, account

    def arn(self, kind: str, key: str) -> str:
        return config.arn(self.region, self.account, KINDS[kind][0], key)

    # entities
    def put(
        self,
        kind: str,
        key: str,
        record: dict,
        *,
        type: Optional[str],
        source_uri: Optional[str] = None,
        content_hash: Optional[str] = None,
        replace: bool = False,
    ) -> tuple[Entity, bool]:
        """The entity of ``kind`` and ``key``, made from ``record`` if new; (entity, made?).

        With ``replace``, an existing entity takes the new record (its creation time stays).
        """
        arn = self.arn(kind, key)
        stamp = _now().isoformat()
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM lineage_entities WHERE kind=? AND region=? AND key=?",
                (kind, self.region, key.lower()),
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO lineage_entities VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        arn,
                        kind,
                        self.region,
                        key.lower(),
                        type,
                        source_uri,
                        content_hash,
                        _json(record),
                        stamp,
                        stamp,
                    ),
                )
                made = True
            elif replace:
                conn.execute(
                    "UPDATE lineage_entities SET type=?, source_uri=?, record=?, modified=? WHERE arn=?",
                    (type, source_uri, _json(record), stamp, row["arn"]),
                )
                made = False
            else:
                return _entity(row), False
        return self.get(arn), made

    def update(self, arn: str, **fields: Any) -> Entity:
        """Change Describe fields of an entity (None removes a field)."""
        entity = self.get(arn)
        record = {**entity.record, **fields}
        record = {k: v for k, v in record.items() if v is not None}
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE lineage_entities SET record=?, modified=? WHERE arn=?",
                (_json(record), _now().isoformat(), arn),
            )
        return self.get(arn)

    def get(self, arn: str) -> Entity:
        with self.db.reading() as conn:
            row = conn.execute("SELECT * FROM lineage_entities WHERE arn=?", (arn,)).fetchone()
        if row is None:
            raise LineageNotFound(f"{arn} does not exist.")
        return _entity(row)

    def find(self, kind: str, name_or_arn: str) -> Entity:
        """An entity by its name (without case) or ARN."""
        if name_or_arn.startswith("arn:"):
            entity = self.get(name_or_arn)
            if entity.kind == kind:
                return entity
        else:
            with self.db.reading() as conn:
                row = conn.execute(
                    "SELECT * FROM lineage_entities WHERE kind=? AND region=? AND key=?",
                    (kind, self.region, name_or_arn.lower()),
                ).fetchone()
            if row is not None:
                return _entity(row)
        raise LineageNotFound(f"{KINDS[kind][1]} {name_or_arn} does not exist.")

    def entities(
        self, kind: Optional[str] = None, source_uri: Optional[str] = None
    ) -> list[Entity]:
        query, params = "SELECT * FROM lineage_entities WHERE region=?", [self.region]
        if kind:
            query += " AND kind=?"
            params.append(kind)
        if source_uri:
            query += " AND source_uri=?"
            params.append(source_uri)
        with self.db.reading() as conn:
            rows = conn.execute(query + " ORDER BY created", params).fetchall()
        return [_entity(r) for r in rows]

    def delete(self, arn: str) -> None:
        self.get(arn)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM lineage_entities WHERE arn=?", (arn,))

    # associations
    def associate(self, source: str, destination: str, association_type: Optional[str]) -> bool:
        """Add an edge (kept once); whether it is new."""
        with self.db.transaction() as conn:
            return (
                conn.execute(
                    "INSERT OR IGNORE INTO lineage_associations VALUES (?,?,?,?)",
                    (source, destination, association_type, _now().isoformat()),
                ).rowcount
                > 0
            )

    def dissociate(self, source: str, destination: str) -> bool:
        with self.db.transaction() as conn:
            return (
                conn.execute(
                    "DELETE FROM lineage_associations WHERE source_arn=? AND destination_arn=?",
                    (source, destination),
                ).rowcount
                > 0
            )

    def associations(
        self, source: Optional[str] = None, destination: Optional[str] = None
    ) -> list[dict]:
        query, params = "SELECT * FROM lineage_associations WHERE 1=1", []
        if source:
            query += " AND source_arn=?"
            params.append(source)
        if destination:
            query += " AND destination_arn=?"
            params.append(destination)
        with self.db.reading() as conn:
            rows = conn.execute(query + " ORDER BY created", params).fetchall()
        return [
            {
                "SourceArn": r["source_arn"],
                "DestinationArn": r["destination_arn"],
                "AssociationType": r["association_type"],
                "CreationTime": datetime.fromisoformat(r["created"]),
            }
            for r in rows
        ]
