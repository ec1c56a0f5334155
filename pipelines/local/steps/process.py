"""Runs a step's program as a child process, as a container would run it.

The child gets its own ``/opt/ml`` (see ``containers.remap``), its own logs, and its own
process group so that stopping the execution ends it and everything it started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Optional

import pipelines
from pipelines.local.errors import ExecutionStopped

PROJECT_ROOT = str(Path(pipelines.__file__).resolve().parent.parent)
POLL_SECONDS = 0.02


def tail(path: Path, lines: int = 12, chars: int = 1500) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])[-chars:]


def python_argv(mapping: dict[str, str], target: list[str]) -> list[str]:
    """The command that runs a script (or ``-m module``) with the container path map."""
    return [sys.executable, "-m", "pipelines.local.containers.launch", json.dumps(mapping), *target]


def run(
    argv: list[str],
    log_dir: Path,
    stop: threading.Event,
    env: Optional[dict] = None,
    cwd: Optional[Path] = None,
) -> int:
    """Run to completion and return the exit code; raise ExecutionStopped when asked to stop."""
    log_dir.mkdir(parents=True, exist_ok=True)
    child_env = dict(os.environ)
    child_env.update(env or {})
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (PROJECT_ROOT, child_env.get("PYTHONPATH")) if p
    )
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    with open(log_dir / "stdout.log", "wb") as out, open(log_dir / "stderr.log", "wb") as err:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=child_env,
            cwd=str(cwd) if cwd else None,
            start_new_session=True,
        )
        while True:
            try:
                return proc.wait(timeout=POLL_SECONDS)
            except subprocess.TimeoutExpired:
                if stop.is_set():
                    terminate(proc)
                    raise ExecutionStopped("the execution was stopped")


def terminate(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
