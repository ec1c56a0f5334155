"""Runs a job's program as a child process, as its container would run it.

``spec_for`` describes the container (``containers.launch.ContainerSpec``): its command, its
folder, working directory and environment, the image's Python environment, and the mechanism
that gives it ``/opt/ml`` (Linux namespaces, or the Python path map where they are not
allowed). ``run_container`` starts it -- forked by the fork server (``containers.forkserver``,
warm imports) where it is available, else as a fresh interpreter; both run the same
``launch.run`` -- in a session of its own, so that stopping the job ends it and everything it
started. ``logs/process.json`` records how it ran.

A fork server that dies under a running job fails that job as the local target's own fault
(``Step.SERVICE_FAULT``, which RetryPolicies may retry), after ending the job's processes; the
next job starts a new server. A job is never run twice behind the caller's back.
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
from dataclasses import replace
from pathlib import Path
from typing import Optional

from smlocal import config
from smlocal.containers import environments, launch, layout, runtime
from smlocal.containers.launch import MAP, NAMESPACES, ContainerSpec
from smlocal.errors import ExecutionStopped, StepFailed
from smlocal.retries import JOB_INTERNAL_ERROR, SERVICE_FAULT

POLL_SECONDS = 0.02
STOP_GRACE_SECONDS = 5.0
FORKSERVER_ENV = "PIPELINES_LOCAL_FORKSERVER"
SDK_CONFIG_VARIABLES = ("SAGEMAKER_USER_CONFIG_OVERRIDE", "SAGEMAKER_ADMIN_CONFIG_OVERRIDE")
PRIVATE_TOPS = ("/tmp",)  # folders a container has its own of: host paths there are bound in
MAP_HINT = (
    "\n(This job ran with the Python path map, not Linux namespaces: only Python's own file "
    "functions see /opt/ml; a C library or another program given an /opt/ml path does not.)"
)


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
    message = f"AlgorithmError: the {what} exited with code {code}:\n{tail(log_dir / 'stderr.log')}"
    if _ran_with_map(log_dir) and "/opt/ml" in message:
        message += MAP_HINT
    return StepFailed(message)


def _ran_with_map(log_dir: Path) -> bool:
    try:
        return json.loads((log_dir / "process.json").read_text()).get("container") == MAP
    except (OSError, ValueError):
        return False


def child_environment(extra: Optional[dict] = None) -> dict:
    env = dict(os.environ)
    env.update(extra or {})
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def spec_for(
    work_dir: Path,
    command: list[str],
    env: dict,
    image: str = "",
    workdir: str = "/",
) -> ContainerSpec:
    """The container of a job whose folder is ``work_dir``: its command, its image's environment.

    ``env`` holds the job's variables (the local target's among them); the image's Python
    environment is made under the state folder on first use.
    """
    try:
        mechanism = runtime.current()
    except runtime.ContainerUnavailable as err:
        raise StepFailed(f"ClientError: {err}") from None
    why = runtime.unrunnable(command, mechanism)
    if why:
        raise StepFailed(f"ClientError: {why}")
    home = Path(env.get(config.HOME_ENV) or config.home())
    variables = child_environment(env)
    environment = None
    if image:
        environment = environments.ensure(home, image)
        variables.update(environment.variables(variables.get("PATH")))
    return ContainerSpec(
        command=[str(c) for c in command],
        root=str(work_dir / "container"),
        workdir=workdir,
        env=variables,
        environment=str(environment.path) if environment else None,
        mechanism=mechanism.name,
        user_namespace=mechanism.user_namespace,
        keep=kept_folders([str(home), str(work_dir)]),
        scratch=str(work_dir / "container-work"),
    )


def kept_folders(paths: list[str]) -> list[str]:
    """Host folders the container must see as they are: ``paths``, and what Python needs.

    Besides the interpreter's own folders and the SDK's config files where they are private to
    a container (``/tmp``), the host's tooling folders the environment points Python at: coverage's data and
    configuration (measured test runs) and ``PYTHONPYCACHEPREFIX`` -- what a step writes
    there is the host's tool's, not the step's layer.
    """
    wanted = [os.path.abspath(p) for p in paths]
    for name in ("COVERAGE_PROCESS_START", "COV_CORE_DATAFILE", "COVERAGE_FILE"):
        if os.environ.get(name):
            wanted.append(os.path.dirname(os.path.abspath(os.environ[name])))
    if os.environ.get("PYTHONPYCACHEPREFIX"):
        prefix = os.path.abspath(os.environ["PYTHONPYCACHEPREFIX"])
        try:
            os.makedirs(prefix, exist_ok=True)
            wanted.append(prefix)
        except OSError:
            pass  # then Python writes no bytecode there, in the container or not
    python = [sys.prefix, sys.base_prefix, os.path.dirname(sys.executable), *sys.path]
    python += os.environ.get("PYTHONPATH", "").split(os.pathsep)
    # the SDK's config files the environment names (a job's own SDK session reads them)
    python += [os.path.dirname(os.environ.get(name, "")) for name in SDK_CONFIG_VARIABLES]
    for path in python:
        if path and os.path.isdir(path) and any(_inside(path, top) for top in PRIVATE_TOPS):
            wanted.append(os.path.abspath(path))
    kept: list[str] = []
    for path in sorted(set(wanted), key=len):
        if not any(_inside(path, k) for k in kept):
            kept.append(path)
    return kept


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def run_container(spec: ContainerSpec, log_dir: Path, stop: threading.Event) -> int:
    """Run the container's command to its end; its exit code (a signal's as negative).

    Raises ExecutionStopped when ``stop`` is set meanwhile, StepFailed (SERVICE_FAULT) when
    the fork server dies under it.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    Path(spec.ml).mkdir(parents=True, exist_ok=True)
    report = log_dir / "layout.json"
    report.unlink(missing_ok=True)
    if spec.mechanism == NAMESPACES:
        spec = replace(spec, report=str(report))
    started = time.perf_counter()
    launcher, outcome = None, None
    try:
        own = spec.environment and environments.Environment(Path(spec.environment)).own_packages()
        if not own:  # the server's imports are the user's: an environment of its own needs its own
            launcher, outcome = "fork server", _forked(spec, log_dir, stop)
        if outcome is None:
            environment = spec.environment and environments.Environment(Path(spec.environment))
            python = str(environment.python) if environment else sys.executable
            argv = [python, "-m", "smlocal.containers.launch", "--spec", spec.to_json()]
            launcher = "spawn"
            outcome = (_spawn(argv, log_dir, stop, spec.env, Path(spec.root)), None)
    except StepFailed as fault:  # the fork server died under the job
        _record(log_dir, started, None, launcher, None, spec, report, fault=str(fault))
        raise
    finally:
        if spec.mechanism == NAMESPACES:
            # the kernel takes the overlays down after the process has gone: tidy meanwhile
            threading.Thread(
                target=layout.tidy, args=(spec.root, spec.scratch), name="tidy"
            ).start()
    code, max_rss_kib = outcome
    _record(log_dir, started, code, launcher, max_rss_kib, spec, report)
    return code


def _record(log_dir, started, code, launcher, max_rss_kib, spec, report: Path, fault="") -> None:
    record = {
        "seconds": round(time.perf_counter() - started, 4),
        "exit_code": code,
        "launcher": launcher,
        "max_rss_mib": round(max_rss_kib / 1024, 1) if max_rss_kib else None,
        "container": spec.mechanism,
        "environment": Path(spec.environment).name if spec.environment else None,
    }
    if report.is_file():
        made = json.loads(report.read_text())
        record["writable_layer"] = made.get("problem") or "overlay"
        record["layout_ms"] = made.get("setup_ms")
    if fault:
        record["fault"] = fault
    (log_dir / "process.json").write_text(json.dumps(record))


def _forked(spec: ContainerSpec, log_dir: Path, stop: threading.Event):
    """(exit code, max RSS) from the fork server, or None where there is none to take the job."""
    for _ in range(2):  # a server found dead before the request reached it is replaced once
        server = fork_server()
        if server is None:
            return None
        try:
            return server.run({"spec": spec.__dict__}, log_dir, stop)
        except ServerGone:
            continue
    return None


def run_python(
    mapping: dict[str, str],
    target: list[str],
    log_dir: Path,
    stop: threading.Event,
    env: Optional[dict] = None,
    cwd: Optional[Path] = None,
) -> int:
    """Run ``target`` (a script path or ``-m module``, then its arguments) under ``mapping``.

    A plain Python process with a path map (no image environment, no namespaces), for the
    local target's own helpers (e.g. drawing an execution's picture).
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    cwd = Path(cwd or log_dir)
    started = time.perf_counter()
    request = {"target": target, "mapping": mapping, "env": child_environment(env), "cwd": str(cwd)}
    outcome, launcher = None, "fork server"
    for _ in range(2):
        server = fork_server()
        if server is None:
            break
        try:
            outcome = server.run(request, log_dir, stop)
            break
        except ServerGone:
            continue
    if outcome is None:
        argv = [sys.executable, "-m", "smlocal.containers.launch", json.dumps(mapping), *target]
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
    """Run a fresh interpreter as the container's process; it dies with this process.

    It gets this process's pid (for the parent-death signal) and the read end of a pipe whose
    write end only this process holds: the pipe closes when this process ends, however.
    """
    read_end, write_end = os.pipe()
    with open(log_dir / "stdout.log", "wb") as out, open(log_dir / "stderr.log", "wb") as err:
        try:
            proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env={
                    **env,
                    launch.PARENT_ENV: str(os.getpid()),
                    launch.PARENT_FD_ENV: str(read_end),
                },
                cwd=str(cwd),
                start_new_session=True,
                pass_fds=(read_end,),
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        try:
            return _wait(proc, stop)
        finally:
            os.close(write_end)


def _wait(proc: subprocess.Popen, stop: threading.Event) -> int:
    while True:
        try:
            return proc.wait(timeout=POLL_SECONDS)
        except subprocess.TimeoutExpired:
            if stop.is_set():
                _kill_group(proc.pid, lambda: proc.poll() is not None)
                proc.wait()
                raise ExecutionStopped("the job was stopped")


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


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


class ServerGone(Exception):
    """The fork server was dead before the request reached it: nothing ran."""


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
            env=child_environment({launch.PARENT_ENV: str(os.getpid())}),
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
        with self.lock:
            self.dead.set()
            jobs = list(self.jobs.values())
        for job in jobs:
            job.started.set()
            job.done.set()

    def run(self, request: dict, log_dir: Path, stop: threading.Event):
        """(exit code, max RSS in KiB) of the request's process.

        Raises ServerGone when the server was dead before it took the request, StepFailed
        (SERVICE_FAULT) when it died while the request's process ran -- after ending it.
        """
        job = _Job()
        with self.lock:
            if self.dead.is_set():
                raise ServerGone()
            self.next_id += 1
            job_id = self.next_id
            self.jobs[job_id] = job
            message = {
                **request,
                "id": job_id,
                "stdout": str(log_dir / "stdout.log"),
                "stderr": str(log_dir / "stderr.log"),
            }
            try:
                self.proc.stdin.write((json.dumps(message) + "\n").encode())
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self.jobs.pop(job_id, None)
                raise ServerGone() from None
        try:
            job.started.wait()
            while not job.done.wait(POLL_SECONDS):
                if stop.is_set():
                    _kill_group(job.pid, job.done.is_set)
                    job.done.wait(STOP_GRACE_SECONDS)
                    raise ExecutionStopped("the job was stopped")
            if job.exit is None:
                self._end_orphans(job)
                raise StepFailed(
                    "InternalError: the local target's fork server ended while the job's process "
                    "ran; the job's processes were ended (the job did not complete)",
                    kind=SERVICE_FAULT,
                )
            return job.exit, job.max_rss_kib
        finally:
            with self.lock:
                self.jobs.pop(job_id, None)

    @staticmethod
    def _end_orphans(job: _Job) -> None:
        """What the job's process started lives on without the server: end it."""
        if job.pid is not None:
            _kill_group(job.pid, lambda: _group_gone(job.pid))

    def close(self) -> None:
        """End the server (it exits when its input closes) and collect it.

        A server still importing, with no step's process asked of it (a run refused before any
        step), is killed at once: it would read its closed input only once its imports end.
        """
        with self.lock:
            idle = not self.ready.is_set() and not self.jobs
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        if idle:
            self.proc.kill()
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
    """The process's fork server, started on first use (a new one after a server died)."""
    global _server
    if not fork_server_enabled():
        return None
    with _server_lock:
        if _server is None or _server.dead.is_set():
            if _server is not None:
                _server.close()
            _server = ForkServer()
            atexit.register(_server.close)
        return _server


def prestart() -> None:
    """Start warming the fork server now, so its imports overlap with other work."""
    fork_server()
