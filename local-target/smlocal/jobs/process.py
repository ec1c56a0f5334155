"""Runs a job's program as a child process, as a container would run it.

The child gets its own ``/opt/ml`` (see ``containers.remap``), its own logs, and its own
session, so that stopping the job ends it and everything it started. Children come from
the fork server (``containers.forkserver``, warm imports) where it is available, else from a
fresh interpreter; both run the same ``launch.run_target``.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Optional

from smlocal.errors import ExecutionStopped, StepFailed
from smlocal.retries import JOB_INTERNAL_ERROR

POLL_SECONDS = 0.02
STOP_GRACE_SECONDS = 5.0
FORKSERVER_ENV = "PIPELINES_LOCAL_FORKSERVER"


def tail(path: Path, lines: int = 12, chars: int = 1500) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])[-chars:]


def failure(code: int, log_dir: Path, what: str) -> StepFailed:
    """The step failure for a process that exited with ``code``.

    Killed by a signal we did not send (the OOM killer, a crash): SageMaker's
    JOB_INTERNAL_ERROR, which RetryPolicies may retry. Any other exit: the job's own error.
    """
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return StepFailed(
            f"InternalServerError: the {what} process was killed by {name}:\n{tail(log_dir / 'stderr.log')}",
            kind=JOB_INTERNAL_ERROR,
        )
    return StepFailed(
        f"AlgorithmError: the {what} exited with code {code}:\n{tail(log_dir / 'stderr.log')}"
    )


def child_environment(extra: Optional[dict] = None) -> dict:
    env = dict(os.environ)
    env.update(extra or {})
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_python(
    mapping: dict[str, str],
    target: list[str],
    log_dir: Path,
    stop: threading.Event,
    env: Optional[dict] = None,
    cwd: Optional[Path] = None,
) -> int:
    """Run ``target`` (a script path or ``-m module``, then its arguments) under ``mapping``.

    Returns the exit code; raises ExecutionStopped when ``stop`` is set meanwhile.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    cwd = Path(cwd or log_dir)
    started = time.perf_counter()
    server = fork_server()
    outcome = None
    if server is not None:
        outcome = server.run(mapping, target, log_dir, stop, child_environment(env), cwd)
    launcher = "fork server"
    if outcome is None:
        argv = [
            sys.executable,
            "-m",
            "smlocal.containers.launch",
            json.dumps(mapping),
            *target,
        ]
        outcome, launcher = (
            _spawn(argv, log_dir, stop, child_environment(env), cwd),
            None,
        ), "spawn"
    code, max_rss_kib = outcome
    record = {
        "seconds": round(time.perf_counter() - started, 4),
        "exit_code": code,
        "launcher": launcher,
        "max_rss_mib": round(max_rss_kib / 1024, 1) if max_rss_kib else None,
    }
    (log_dir / "process.json").write_text(json.dumps(record))
    return code


def _spawn(argv: list[str], log_dir: Path, stop: threading.Event, env: dict, cwd: Path) -> int:
    with open(log_dir / "stdout.log", "wb") as out, open(log_dir / "stderr.log", "wb") as err:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=str(cwd),
            start_new_session=True,
        )
        while True:
            try:
                return proc.wait(timeout=POLL_SECONDS)
            except subprocess.TimeoutExpired:
                if stop.is_set():
                    _kill_group(proc.pid, lambda: proc.poll() is not None)
                    proc.wait()
                    raise ExecutionStopped("the job was stopped")


def _kill_group(pgid: int, ended) -> None:
    """SIGTERM the process group, then SIGKILL what is left after the grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline:
            if ended():
                return
            time.sleep(POLL_SECONDS)


class _Job:
    def __init__(self):
        self.pid: Optional[int] = None
        self.exit: Optional[int] = None
        self.max_rss_kib: Optional[int] = None
        self.started = threading.Event()
        self.done = threading.Event()


class ForkServer:
    """Client of one ``containers.forkserver`` process."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "smlocal.containers.forkserver"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=child_environment(),
            cwd="/",
            start_new_session=True,
        )
        self.lock = threading.Lock()
        self.jobs: dict[int, _Job] = {}
        self.next_id = 0
        self.ready = threading.Event()
        self.dead = threading.Event()
        threading.Thread(target=self._read, name="forkserver-reader", daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            message = json.loads(line)
            if message.get("ready"):
                self.ready.set()
                continue
            job = self.jobs.get(message["id"])
            if job is None:
                continue
            if "pid" in message:
                job.pid = message["pid"]
                job.started.set()
            if "exit" in message:
                job.exit = message["exit"]
                job.max_rss_kib = message.get("max_rss_kib")
                job.done.set()
        self.dead.set()
        for job in list(self.jobs.values()):
            job.started.set()
            job.done.set()

    def run(self, mapping, target, log_dir: Path, stop: threading.Event, env: dict, cwd: Path):
        """(exit code, max RSS in KiB), or None when the server cannot take the job (spawn instead)."""
        if self.dead.is_set():
            return None
        job = _Job()
        with self.lock:
            self.next_id += 1
            job_id = self.next_id
            self.jobs[job_id] = job
            request = {
                "id": job_id,
                "target": target,
                "mapping": mapping,
                "env": env,
                "cwd": str(cwd),
                "stdout": str(log_dir / "stdout.log"),
                "stderr": str(log_dir / "stderr.log"),
            }
            try:
                self.proc.stdin.write((json.dumps(request) + "\n").encode())
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self.jobs.pop(job_id, None)
                return None
        try:
            job.started.wait()
            if job.pid is None:
                return None
            while not job.done.wait(POLL_SECONDS):
                if stop.is_set():
                    _kill_group(job.pid, job.done.is_set)
                    job.done.wait(STOP_GRACE_SECONDS)
                    raise ExecutionStopped("the job was stopped")
            return (job.exit, job.max_rss_kib) if job.exit is not None else None
        finally:
            with self.lock:
                self.jobs.pop(job_id, None)

    def close(self) -> None:
        """End the server (it exits when its input closes) and collect it."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()


_server: Optional[ForkServer] = None
_server_lock = threading.Lock()


def fork_server_enabled() -> bool:
    setting = os.environ.get(FORKSERVER_ENV, "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def fork_server() -> Optional[ForkServer]:
    """The process's fork server, started on first use (None where disabled or dead)."""
    global _server
    if not fork_server_enabled():
        return None
    with _server_lock:
        if _server is None or _server.dead.is_set():
            _server = ForkServer()
            atexit.register(_server.close)
        return _server


def prestart() -> None:
    """Start warming the fork server now, so its imports overlap with other work."""
    fork_server()
