"""The state database: one SQLite file, one short-lived connection per use.

Connections are opened per call (cheap) so any thread or process can use the state, and
writers take the write lock up front (``BEGIN IMMEDIATE``) so read-modify-write is atomic.

A state file that cannot be used -- a folder, garbage, truncated, read-only, on a full
disk -- raises ``StateError``: one line naming the file, what is wrong and what to do. On a
read-only state folder the file is opened read-only, so listing commands still work.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Optional
from urllib.parse import quote

from smlocal.errors import StateError

# What each SQLite complaint means for the user, and what they can do about it.
_PROBLEMS = (
    (
        ("file is not a database", "malformed", "not a database"),
        "is not a usable SQLite database (garbage or truncated)",
        "move it away to start with an empty state, or restore it from a copy",
    ),
    (
        ("readonly", "read-only"),
        "is read-only and this command writes to it",
        "make the file and its folder writable, or set PIPELINES_LOCAL_HOME to another folder",
    ),
    (
        ("disk is full", "no space"),
        "cannot be written: the disk is full",
        "free some space (pipelines-local clean) and run again",
    ),
    (
        ("disk i/o error",),
        "cannot be read or written: disk I/O error",
        "check the disk, or set PIPELINES_LOCAL_HOME to a folder on another one",
    ),
    (
        ("unable to open",),
        "cannot be opened",
        "check that it is a file you may read and write, in a folder you may write to",
    ),
    (
        ("database is locked",),
        "stayed locked by another process for 30 s",
        "wait for the other run to finish, or end it",
    ),
)


def now() -> datetime:
    return datetime.now(timezone.utc)


def to_json(value: Any) -> str:
    """JSON for a record's column; datetimes as ISO text."""
    return json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))


def parse_time(text: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(text) if text else None


def pid_alive(pid: Optional[int]) -> bool:
    """Whether a recorded process still runs (a record outliving its process is marked lost)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A process that has ended but not been collected (e.g. under a PID 1 that never reaps)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def _full(path: Path) -> bool:
    """Whether the state folder's filesystem has no room left (SQLite says "I/O error")."""
    try:
        stat = os.statvfs(path.parent)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < 64 * 1024


def state_error(path: Path, err: Exception) -> Optional[StateError]:
    """The StateError an SQLite or OS error on the state file means, or None if it is ours."""
    text = str(err).lower()
    if "disk i/o error" in text and _full(path):
        text = "disk is full"
    for needles, what, todo in _PROBLEMS:
        if any(n in text for n in needles):
            return StateError(f"{path}: the state file {what} ({err}); {todo}")
    return None


class Database:
    """One state file; read-only (listing still works) where its folder cannot be written."""

    def __init__(self, path: Path, schema: str):
        self.path = Path(path)
        if self.path.is_dir():
            raise StateError(
                f"{self.path}: the state file is a folder, not an SQLite database; "
                "move it away to start with an empty state"
            )
        self.read_only = not _writable(self.path)
        if not self.read_only:
            self._guard(lambda: self.path.parent.mkdir(parents=True, exist_ok=True))
        elif not self.path.exists():
            raise StateError(
                f"{self.path}: there is no state file and its folder is read-only; "
                "set PIPELINES_LOCAL_HOME to a folder you may write to"
            )
        with self._opened() as conn:
            if self.read_only:
                self._guard(lambda: conn.execute("SELECT count(*) FROM sqlite_master").fetchone())
            else:
                self._guard(lambda: conn.executescript(schema))  # runs its own transaction

    def _guard(self, action):
        try:
            return action()
        except (sqlite3.Error, OSError) as err:
            raise state_error(self.path, err) or err

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            conn = self._connect_read_only()
        else:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _connect_read_only(self) -> sqlite3.Connection:
        """Read-only; ``immutable`` where SQLite cannot make a WAL file's index beside it."""
        uri = "file:" + quote(str(self.path.resolve()))
        try:
            conn = sqlite3.connect(uri + "?mode=ro", uri=True, timeout=30, isolation_level=None)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            return sqlite3.connect(uri + "?immutable=1", uri=True, isolation_level=None)

    @contextlib.contextmanager
    def _opened(self, reading: bool = False) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._connect()
        except (sqlite3.Error, OSError) as err:
            if not (reading and _full(self.path)):
                raise state_error(self.path, err) or err
            # SQLite cannot remake the WAL index on a full disk: read the file as it is
            # (complete: the WAL is folded in when the last connection closes)
            conn = self._guard(self._connect_read_only)
            conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._opened() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException as err:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # SQLite rolled back itself (e.g. disk full): nothing to undo
                if isinstance(err, (sqlite3.Error, OSError)):
                    raise state_error(self.path, err) or err
                raise

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self._opened(reading=True) as conn:
            try:
                yield conn
            except (sqlite3.Error, OSError) as err:
                raise state_error(self.path, err) or err


def _writable(path: Path) -> bool:
    """Whether the state file can be written (its folder too: SQLite writes journals there)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not os.access(folder if not path.parent.exists() else path.parent, os.W_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)
