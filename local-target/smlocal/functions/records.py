"""Lambda functions' records and code: what CreateFunction stored, where its code is unpacked.

One row per function (region and name) in the state database, so any process finds a function
another created; the code is kept as its zip and unpacked beside it, one folder per version of
the code (``<home>/lambda/<region>/<name>/<sha256>/``), which is the handler's working folder.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import uuid
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from smlocal import config
from smlocal.db import Database
from smlocal.errors import LocalTargetError

SCHEMA = """
CREATE TABLE IF NOT EXISTS functions (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (region, name)
);
"""
# FunctionName as Lambda takes it: a name, a partial ARN or a full ARN (a qualifier may follow).
_ARN = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):)?(?:(?P<account>\d{12}):)?"
    r"(?:function:)?(?P<name>[a-zA-Z0-9_-]+)(?::(?P<qualifier>[a-zA-Z0-9$_-]+))?$"
)


class FunctionNotFound(LocalTargetError):
    """No function of that name (ResourceNotFoundException)."""


class FunctionExists(LocalTargetError):
    """CreateFunction of a name that has a function (ResourceConflictException)."""


class InvalidFunction(LocalTargetError):
    """A request the local target refuses (InvalidParameterValueException)."""


def parse_name(function_name: str) -> tuple[Optional[str], str, Optional[str]]:
    """(region or None, name, qualifier or None) of a FunctionName or function ARN."""
    match = _ARN.match(function_name or "")
    if not match:
        raise InvalidFunction(f"{function_name!r} is not a function name or ARN")
    return match["region"], match["name"], match["qualifier"]


def function_arn(region: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{config.ACCOUNT_ID}:function:{name}"


def _now() -> str:
    """Lambda's LastModified format: 2024-01-31T12:00:00.000+0000."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


@dataclass
class FunctionRecord:
    """A function's configuration (FunctionConfiguration's fields) and its code's identity."""

    name: str
    region: str
    runtime: str
    handler: str
    role: str
    code_sha256: str
    code_size: int
    timeout: int = 3
    memory_size: int = 128
    description: str = ""
    environment: dict = field(default_factory=dict)
    layers: list = field(default_factory=list)
    architectures: list = field(default_factory=lambda: ["x86_64"])
    tags: dict = field(default_factory=dict)
    last_modified: str = field(default_factory=_now)
    revision_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def arn(self) -> str:
        return function_arn(self.region, self.name)

    def configuration(self) -> dict:
        """``FunctionConfiguration`` as GetFunction and CreateFunction return it."""
        response = {
            "FunctionName": self.name,
            "FunctionArn": self.arn,
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "CodeSize": self.code_size,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": self.last_modified,
            "CodeSha256": self.code_sha256,
            "Version": "$LATEST",
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": self.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": list(self.architectures),
            "EphemeralStorage": {"Size": 512},
        }
        if self.environment:
            response["Environment"] = {"Variables": dict(self.environment)}
        if self.layers:
            response["Layers"] = [{"Arn": arn, "CodeSize": 0} for arn in self.layers]
        return response


class FunctionStore:
    """The ``functions`` table and the code folders of one state folder."""

    def __init__(self, home: Path):
        self.home = Path(home)
        self.db = Database(self.home / "state.sqlite", SCHEMA)

    def folder(self, record: FunctionRecord) -> Path:
        return self.home / "lambda" / record.region / record.name

    def code_dir(self, record: FunctionRecord) -> Path:
        """Where the function's current code is unpacked (the handler's task root)."""
        digest = base64.b64decode(record.code_sha256).hex()
        return self.folder(record) / digest

    def put_code(self, region: str, name: str, archive: bytes) -> tuple[str, int]:
        """Keep and unpack a code zip; (CodeSha256, CodeSize) as Lambda reports them."""
        try:
            members = zipfile.ZipFile(io.BytesIO(archive))
            members.testzip()
        except zipfile.BadZipFile:
            raise InvalidFunction(
                "Could not unzip uploaded file. Please check your file."
            ) from None
        sha = hashlib.sha256(archive).digest()
        target = self.home / "lambda" / region / name / sha.hex()
        if not target.is_dir():
            scratch = target.with_name(f".{sha.hex()}-{uuid.uuid4().hex[:8]}")
            members.extractall(scratch)
            try:
                scratch.rename(target)
            except OSError:  # another process unpacked the same code first
                shutil.rmtree(scratch, ignore_errors=True)
        return base64.b64encode(sha).decode(), len(archive)

    def create(self, record: FunctionRecord) -> FunctionRecord:
        with self.db.transaction() as conn:
            exists = conn.execute(
                "SELECT 1 FROM functions WHERE region=? AND name=?", (record.region, record.name)
            ).fetchone()
            if exists:
                raise FunctionExists(f"Function already exist: {record.name}")
            conn.execute(
                "INSERT INTO functions VALUES (?,?,?)",
                (record.region, record.name, json.dumps(asdict(record))),
            )
        return record

    def get(self, region: str, name: str) -> FunctionRecord:
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT record FROM functions WHERE region=? AND name=?", (region, name)
            ).fetchone()
        if row is None:
            raise FunctionNotFound(f"Function not found: {function_arn(region, name)}")
        return FunctionRecord(**json.loads(row["record"]))

    def update(self, record: FunctionRecord) -> FunctionRecord:
        """Store changed configuration or code: a new LastModified and RevisionId."""
        record.last_modified, record.revision_id = _now(), str(uuid.uuid4())
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE functions SET record=? WHERE region=? AND name=?",
                (json.dumps(asdict(record)), record.region, record.name),
            )
        return record

    def delete(self, region: str, name: str) -> None:
        record = self.get(region, name)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM functions WHERE region=? AND name=?", (region, name))
        shutil.rmtree(self.folder(record), ignore_errors=True)

    def list(self, region: str) -> list[FunctionRecord]:
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT record FROM functions WHERE region=? ORDER BY name", (region,)
            ).fetchall()
        return [FunctionRecord(**json.loads(r["record"])) for r in rows]
