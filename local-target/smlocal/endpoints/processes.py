"""Detached processes: starting an endpoint's host so that it outlives its creator, and ending it.

An endpoint must keep serving after the process that created it (a CLI, a notebook cell)
has gone, so its host is started through a short-lived intermediate process: the host is then
nobody's child, cannot become a zombie of the creator, and any process can tell whether it
still runs and stop it by its process id.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

from smlocal import db

POLL_SECONDS = 0.02

# Runs in the intermediate process: start the real one in its own session, print its pid, exit.
_SPAWN = """
import json, subprocess, sys
spec = json.loads(sys.argv[1])
with open(spec["log"], "ab") as log:
    proc = subprocess.Popen(
        spec["argv"], stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=spec["cwd"],
        env=spec["env"], pass_fds=spec["fds"], start_new_session=True,
    )
print(proc.pid)
"""


def spawn_detached(
    argv: Sequence[str], *, env: dict, cwd: Path, log: Path, pass_fds: Sequence[int] = ()
) -> int:
    """Start ``argv`` as a process of its own session whose parent is not this process.

    Returns its process id; its output (both streams) is appended to ``log``.
    """
    spec = {
        "argv": list(argv),
        "env": env,
        "cwd": str(cwd),
        "log": str(log),
        "fds": list(pass_fds),
    }
    result = subprocess.run(
        [sys.executable, "-c", _SPAWN, json.dumps(spec)],
        capture_output=True,
        text=True,
        pass_fds=tuple(pass_fds),
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise OSError(f"could not start {argv[0]}: {result.stderr.strip()[-500:]}")
    return int(result.stdout.strip())


def start_time(pid: int) -> Optional[str]:
    """When the process started (Linux's ``/proc``), to tell it from a later one of the same pid."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return fields[19] if len(fields) > 19 else None


def alive(pid: Optional[int], started: Optional[str] = None) -> bool:
    """True while ``pid`` runs (and, when ``started`` is known, is the process that had it)."""
    if not db.pid_alive(pid):
        return False
    if started is not None:
        now = start_time(pid)
        return now is None or now == started
    return True


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)


def terminate(pid: Optional[int], started: Optional[str] = None, grace: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if not alive(pid, started):
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if wait_until(lambda: not alive(pid, started), wait):
            return
