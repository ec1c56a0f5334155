"""SQS queues and their messages, in the state database, so any process sends and receives.

Standard queues as SQS keeps them: a message received is invisible for the queue's (or the
call's) visibility timeout, then visible again unless deleted with the receipt handle of its
latest receipt; ``DelaySeconds`` holds a new message back; ``MessageRetentionPeriod`` drops old
ones. Queues are known by region and name: the account in a queue URL does not matter here.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import urlparse

from smlocal import config
from smlocal.db import Database
from smlocal.errors import LocalTargetError

SCHEMA = """
CREATE TABLE IF NOT EXISTS queues (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    attributes TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    PRIMARY KEY (region, name)
);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    sent REAL NOT NULL,
    visible_at REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_received REAL,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_queue ON messages (region, queue, visible_at);
"""
DEFAULTS = {
    "VisibilityTimeout": "30",
    "DelaySeconds": "0",
    "MessageRetentionPeriod": "345600",
    "MaximumMessageSize": "262144",
    "ReceiveMessageWaitTimeSeconds": "0",
}
NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
POLL_SECONDS = 0.1


class QueueError(LocalTargetError):
    """An SQS error: ``code`` is the error's shape name in SQS's model."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def queue_url(region: str, name: str) -> str:
    return f"https://sqs.{region}.amazonaws.com/{config.ACCOUNT_ID}/{name}"


def parse_url(url: str, default_region: str) -> tuple[str, str]:
    """(region, name) of a queue URL (any account), or of a bare queue name."""
    parsed = urlparse(url or "")
    if not parsed.scheme:
        return default_region, url
    parts = parsed.path.strip("/").split("/")
    host = parsed.hostname or ""
    match = re.match(r"^sqs\.([a-z0-9-]+)\.", host) or re.match(r"^([a-z0-9-]+)\.queue\.", host)
    return (match.group(1) if match else default_region), parts[-1]


@dataclass
class Message:
    """A message as ReceiveMessage returns it."""

    id: str
    body: str
    receipt: str
    attributes: dict

    def response(self, attribute_names: list[str]) -> dict:
        wanted = {k: v for k, v in self.attributes.items() if _wanted(k, attribute_names)}
        message = {
            "MessageId": self.id,
            "ReceiptHandle": self.receipt,
            "MD5OfBody": hashlib.md5(self.body.encode(), usedforsecurity=False).hexdigest(),
            "Body": self.body,
        }
        if wanted:
            message["Attributes"] = wanted
        return message


def _wanted(name: str, names: list[str]) -> bool:
    return "All" in names or name in names


class QueueStore:
    """The ``queues`` and ``messages`` tables of one state folder."""

    def __init__(self, home: Path):
        self.db = Database(Path(home) / "state.sqlite", SCHEMA)

    # queues
    def create(self, region: str, name: str, attributes: dict, tags: dict) -> str:
        if name.endswith(".fifo") or attributes.get("FifoQueue") == "true":
            raise QueueError("InvalidAttributeName", "FIFO queues are not supported locally")
        if not NAME.match(name):
            raise QueueError(
                "InvalidAttributeValue",
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in "
                "length",
            )
        attributes = {**DEFAULTS, **{k: str(v) for k, v in attributes.items()}}
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT attributes FROM queues WHERE region=? AND name=?", (region, name)
            ).fetchone()
            if row is not None:
                if json.loads(row["attributes"]) != attributes:
                    raise QueueError(
                        "QueueNameExists",
                        f"A queue already exists with the same name and a different value for "
                        f"attribute(s) of {name}",
                    )
                return queue_url(region, name)
            conn.execute(
                "INSERT INTO queues VALUES (?,?,?,?,?)",
                (region, name, json.dumps(attributes), json.dumps(tags), time.time()),
            )
        return queue_url(region, name)

    def attributes(self, region: str, name: str) -> dict:
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT attributes, created FROM queues WHERE region=? AND name=?", (region, name)
            ).fetchone()
            if row is None:
                raise QueueError(
                    "QueueDoesNotExist", "The specified queue does not exist for this wsdl version."
                )
            counts = conn.execute(
                "SELECT SUM(visible_at <= ?) AS visible, SUM(visible_at > ? AND receipt IS NOT NULL)"
                " AS flight, SUM(visible_at > ? AND receipt IS NULL) AS delayed FROM messages"
                " WHERE region=? AND queue=?",
                (time.time(), time.time(), time.time(), region, name),
            ).fetchone()
        return {
            **json.loads(row["attributes"]),
            "QueueArn": f"arn:aws:sqs:{region}:{config.ACCOUNT_ID}:{name}",
            "CreatedTimestamp": str(int(row["created"])),
            "ApproximateNumberOfMessages": str(counts["visible"] or 0),
            "ApproximateNumberOfMessagesNotVisible": str(counts["flight"] or 0),
            "ApproximateNumberOfMessagesDelayed": str(counts["delayed"] or 0),
        }

    def set_attributes(self, region: str, name: str, attributes: dict) -> None:
        current = self._own_attributes(region, name)
        current.update({k: str(v) for k, v in attributes.items()})
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE queues SET attributes=? WHERE region=? AND name=?",
                (json.dumps(current), region, name),
            )

    def _own_attributes(self, region: str, name: str) -> dict:
        attributes = self.attributes(region, name)
        return {k: v for k, v in attributes.items() if k in DEFAULTS or k in _SETTABLE}

    def names(self, region: str, prefix: str = "") -> list[str]:
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT name FROM queues WHERE region=? ORDER BY name", (region,)
            ).fetchall()
        return [r["name"] for r in rows if r["name"].startswith(prefix)]

    def delete(self, region: str, name: str) -> None:
        self.attributes(region, name)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM queues WHERE region=? AND name=?", (region, name))
            conn.execute("DELETE FROM messages WHERE region=? AND queue=?", (region, name))

    def purge(self, region: str, name: str) -> None:
        self.attributes(region, name)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM messages WHERE region=? AND queue=?", (region, name))

    # messages
    def send(self, region: str, name: str, body: str, delay: Optional[int] = None) -> str:
        attributes = self.attributes(region, name)
        if len(body.encode()) > int(attributes["MaximumMessageSize"]):
            raise QueueError(
                "InvalidParameterValue",
                f"One or more parameters are invalid. Reason: Message must be shorter than "
                f"{attributes['MaximumMessageSize']} bytes.",
            )
        now = time.time()
        delay = int(attributes["DelaySeconds"] if delay is None else delay)
        message_id = str(uuid.uuid4())
        stamp = str(int(now * 1000))
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO messages (id, region, queue, body, attributes, sent, visible_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    message_id,
                    region,
                    name,
                    body,
                    json.dumps({"SentTimestamp": stamp, "SenderId": config.ACCOUNT_ID}),
                    now,
                    now + delay,
                ),
            )
        return message_id

    def receive(
        self,
        region: str,
        name: str,
        count: int = 1,
        visibility: Optional[int] = None,
        wait: Optional[int] = None,
    ) -> list[Message]:
        """Up to ``count`` visible messages, waiting up to ``wait`` seconds for the first."""
        attributes = self.attributes(region, name)
        visibility = int(attributes["VisibilityTimeout"] if visibility is None else visibility)
        wait = int(attributes["ReceiveMessageWaitTimeSeconds"] if wait is None else wait)
        deadline = time.monotonic() + wait
        while True:
            messages = self._take(region, name, count, visibility, attributes)
            if messages or time.monotonic() >= deadline:
                return messages
            time.sleep(POLL_SECONDS)

    def _take(self, region, name, count, visibility, attributes) -> list[Message]:
        now = time.time()
        retention = float(attributes["MessageRetentionPeriod"])
        taken = []
        with self.db.transaction() as conn:
            conn.execute(
                "DELETE FROM messages WHERE region=? AND queue=? AND sent < ?",
                (region, name, now - retention),
            )
            rows = conn.execute(
                "SELECT * FROM messages WHERE region=? AND queue=? AND visible_at <= ?"
                " ORDER BY sent LIMIT ?",
                (region, name, now, count),
            ).fetchall()
            for row in rows:
                receipt = uuid.uuid4().hex + uuid.uuid4().hex
                extra = json.loads(row["attributes"])
                extra["ApproximateReceiveCount"] = str(row["receive_count"] + 1)
                extra["ApproximateFirstReceiveTimestamp"] = str(
                    int((row["first_received"] or now) * 1000)
                )
                conn.execute(
                    "UPDATE messages SET visible_at=?, receive_count=receive_count+1, receipt=?,"
                    " first_received=COALESCE(first_received, ?) WHERE id=?",
                    (now + visibility, receipt, now, row["id"]),
                )
                taken.append(Message(row["id"], row["body"], receipt, extra))
        return taken

    def delete_message(self, region: str, name: str, receipt: str) -> None:
        self.attributes(region, name)
        with self.db.transaction() as conn:
            found = conn.execute(
                "DELETE FROM messages WHERE region=? AND queue=? AND receipt=?",
                (region, name, receipt),
            ).rowcount
        if not found and not _looks_like_receipt(receipt):
            raise QueueError(
                "ReceiptHandleIsInvalid", f"The input receipt handle {receipt!r} is not valid."
            )

    def change_visibility(self, region: str, name: str, receipt: str, timeout: int) -> None:
        self.attributes(region, name)
        with self.db.transaction() as conn:
            found = conn.execute(
                "UPDATE messages SET visible_at=? WHERE region=? AND queue=? AND receipt=?",
                (time.time() + timeout, region, name, receipt),
            ).rowcount
        if not found:
            raise QueueError("MessageNotInflight", "The message referred to isn't in flight.")


_SETTABLE = ("Policy", "RedrivePolicy", "KmsMasterKeyId", "SqsManagedSseEnabled")


def _looks_like_receipt(receipt: str) -> bool:
    """A handle this store issued (deleting a message twice succeeds, as on SQS)."""
    return bool(re.match(r"^[0-9a-f]{64}$", receipt or ""))
