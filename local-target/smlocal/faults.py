"""The local target's own I/O faults (disk full, read-only, I/O error) as one line each.

A step that fails because the machine cannot write -- not because of its code or data --
is reported by what happened and where ("No space left on device: /path"), never by the
traceback of the handler that tried to write it down.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from pathlib import Path
from typing import Optional

from smlocal.errors import StateError

log = logging.getLogger(__name__)

# Errors of the machine's storage, not of a step's code: out of space, read-only, broken.
STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EMFILE, errno.ENFILE}
)


def describe(err: BaseException) -> Optional[str]:
    """One line for a storage fault (None for any other error)."""
    if isinstance(err, StateError):
        return str(err)
    if isinstance(err, OSError) and err.errno in STORAGE_ERRNOS:
        target = err.filename2 or err.filename  # a copy's destination is what was written
        where = f": {target}" if target else ""
        return f"{err.strerror or os.strerror(err.errno)}{where}"
    if isinstance(err, sqlite3.OperationalError) and "disk" in str(err).lower():
        return f"the state database: {err}"
    return None


def write_quietly(path: Path, text: str) -> Optional[Path]:
    """Write a diagnostic file if the disk lets us; the path, or None when it could not.

    Used inside error handlers: a second fault there must not replace the first.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path
    except OSError as err:
        log.warning("could not write %s: %s", path, err.strerror or err)
        return None


def storage_error(path: Path, err: OSError, what: str) -> StateError:
    """A StateError for a write to the state folder that the disk refused."""
    return StateError(
        f"{path}: cannot write {what}: {err.strerror or err}; free space or fix the folder's "
        "permissions (or set PIPELINES_LOCAL_HOME to another folder) and run again"
    )
