"""The local model registry: model package groups and their versioned packages.

The backend behind the client's model-package calls: records, rules (approval statuses,
unique increasing versions) and boto3-shaped records. SQLite keeps it safe when two
executions register at once.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from smlocal import config, lineage
from smlocal.db import Database

APPROVAL_STATUSES = ("Approved", "Rejected", "PendingManualApproval")

SCHEMA = """
CREATE TABLE IF NOT EXISTS model_package_groups (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    description TEXT,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS model_packages (
    arn TEXT PRIMARY KEY,
    group_name TEXT NOT NULL REFERENCES model_package_groups(name),
    version INTEGER NOT NULL,
    approval_status TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    created_by_execution TEXT,
    record TEXT NOT NULL,
    UNIQUE (group_name, version)
);
"""


class RegistryError(ValueError):
    """A request the registry refuses; ``code`` is the SageMaker error code."""

    def __init__(self, message: str, code: str = "ValidationException"):
        super().__init__(message)
        self.code = code


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class ModelRegistry:
    def __init__(self, db_path: Path, region: str, account: str):
        self.db = Database(db_path, SCHEMA)
        self.region = region
        self.account = account

    def _arn(self, kind: str, name: str) -> str:
        return config.arn(self.region, self.account, kind, name)

    # groups
    def create_model_package_group(self, name: str, description: Optional[str] = None) -> dict:
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM model_package_groups WHERE name=?", (name,)).fetchone():
                raise RegistryError(
                    f"Model Package Group already exists: {self._arn('model-package-group', name)}"
                )
            arn = self._arn("model-package-group", name)
            conn.execute(
                "INSERT INTO model_package_groups VALUES (?,?,?,?)",
                (name, arn, description, _now()),
            )
        return {"ModelPackageGroupArn": arn}

    def describe_model_package_group(self, name: str) -> dict:
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM model_package_groups WHERE name=?", (name,)
            ).fetchone()
        if row is None:
            raise RegistryError(f"ModelPackageGroup {name} does not exist.")
        return {
            "ModelPackageGroupName": row["name"],
            "ModelPackageGroupArn": row["arn"],
            "ModelPackageGroupDescription": row["description"] or "",
            "CreationTime": datetime.fromisoformat(row["created"]),
            "ModelPackageGroupStatus": "Completed",
        }

    def list_model_package_groups(self) -> list[dict]:
        with self.db.reading() as conn:
            names = [
                r["name"]
                for r in conn.execute("SELECT name FROM model_package_groups ORDER BY created DESC")
            ]
        return [self.describe_model_package_group(n) for n in names]

    # packages
    def create_model_package(
        self, request: dict, created_by_execution: Optional[str] = None, create_group: bool = False
    ) -> dict:
        group = request.get("ModelPackageGroupName")
        if not group:
            raise RegistryError("ModelPackageGroupName is required for a versioned model package")
        status = request.get("ModelApprovalStatus") or "PendingManualApproval"
        if status not in APPROVAL_STATUSES:
            raise RegistryError(
                f"ModelApprovalStatus {status!r} is not one of {', '.join(APPROVAL_STATUSES)}"
            )
        now = _now()
        with self.db.transaction() as conn:
            if not conn.execute(
                "SELECT 1 FROM model_package_groups WHERE name=?", (group,)
            ).fetchone():
                if not create_group:
                    raise RegistryError(f"ModelPackageGroup {group} does not exist.")
                conn.execute(
                    "INSERT INTO model_package_groups VALUES (?,?,?,?)",
                    (group, self._arn("model-package-group", group), None, now),
                )
            version = conn.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM model_packages WHERE group_name=?",
                (group,),
            ).fetchone()[0]
            arn = self._arn("model-package", f"{group}/{version}")
            record = {
                k: v for k, v in request.items() if k not in ("ModelApprovalStatus", "ClientToken")
            }
            conn.execute(
                "INSERT INTO model_packages VALUES (?,?,?,?,?,?,?,?)",
                (arn, group, version, status, now, now, created_by_execution, json.dumps(record)),
            )
        package = self.describe_model_package(arn)
        lineage.record_model_package(self.db.path.parent, self.region, self.account, package)
        return package

    def _find(self, conn, name_or_arn: str):
        row = conn.execute("SELECT * FROM model_packages WHERE arn=?", (name_or_arn,)).fetchone()
        if row is None and "/" in name_or_arn and not name_or_arn.startswith("arn:"):
            group, _, version = name_or_arn.rpartition("/")
            if version.isdigit():
                row = conn.execute(
                    "SELECT * FROM model_packages WHERE group_name=? AND version=?",
                    (group, int(version)),
                ).fetchone()
        if row is None:
            raise RegistryError(f"ModelPackage {name_or_arn} does not exist.")
        return row

    def describe_model_package(self, name_or_arn: str) -> dict:
        with self.db.reading() as conn:
            row = self._find(conn, name_or_arn)
        return self._record(row)

    @staticmethod
    def _record(row) -> dict:
        record = json.loads(row["record"])
        record.update(
            {
                "ModelPackageGroupName": row["group_name"],
                "ModelPackageVersion": row["version"],
                "ModelPackageArn": row["arn"],
                "ModelPackageName": row["group_name"],
                "ModelPackageStatus": "Completed",
                "ModelApprovalStatus": row["approval_status"],
                "CreationTime": datetime.fromisoformat(row["created"]),
                "LastModifiedTime": datetime.fromisoformat(row["modified"]),
            }
        )
        if row["created_by_execution"]:
            record["MetadataProperties"] = {
                **record.get("MetadataProperties", {}),
                "GeneratedBy": row["created_by_execution"],
            }
        return record

    def list_model_packages(
        self, group: Optional[str] = None, approval_status: Optional[str] = None
    ) -> list[dict]:
        query, params = "SELECT * FROM model_packages WHERE 1=1", []
        if group:
            query += " AND group_name=?"
            params.append(group)
        if approval_status:
            query += " AND approval_status=?"
            params.append(approval_status)
        with self.db.reading() as conn:
            rows = conn.execute(query + " ORDER BY created DESC, version DESC", params).fetchall()
        return [self._record(r) for r in rows]

    def update_model_package(
        self,
        name_or_arn: str,
        approval_status: Optional[str] = None,
        approval_description: Optional[str] = None,
    ) -> dict:
        if approval_status is not None and approval_status not in APPROVAL_STATUSES:
            raise RegistryError(
                f"ModelApprovalStatus {approval_status!r} is not one of {', '.join(APPROVAL_STATUSES)}"
            )
        with self.db.transaction() as conn:
            row = self._find(conn, name_or_arn)
            record = json.loads(row["record"])
            if approval_description is not None:
                record["ApprovalDescription"] = approval_description
            conn.execute(
                "UPDATE model_packages SET approval_status=?, modified=?, record=? WHERE arn=?",
                (approval_status or row["approval_status"], _now(), json.dumps(record), row["arn"]),
            )
        return {"ModelPackageArn": row["arn"]}
