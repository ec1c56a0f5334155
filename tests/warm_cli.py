"""A warm launcher for the tests' CLI runs: each run a process forked from one that has imported
the heavy third-party libraries once.

Why: the suite runs the CLIs (``python -m pipelines.run_pipeline ...``) a few hundred times, and
a fresh interpreter spends most of its CPU importing the same libraries (pydantic's models of
``sagemaker_core``, pandas, scipy, boto3: about 2 CPU-s of the SDK's 3, twice that under
coverage). The server (one per test process) imports those libraries and nothing else; a run is
a child forked from it that then starts as a fresh interpreter would for ``python -m MODULE``:
its environment, working directory, ``sys.path`` (the working directory, then ``PYTHONPATH``)
and standard streams are set first, then the start-up hooks run (a ``sitecustomize`` on
``PYTHONPATH``, the local target's ``smlocal.pth``), then the module runs as ``__main__`` and
the process exits as an interpreter does (threads joined, ``atexit``, exit status). The SDK's
own package and all of ours are imported in the child, after all of that: their import-time
output, warnings and activation happen in the run, as in a fresh interpreter.

What differs from a fresh interpreter: the preloaded libraries were imported before the run's
environment was set (they read none of it at import: the server checks that their import
printed and warned nothing), so their import-time changes are in place in every run, also one
that would not import them (urllib3's and numpy's warning filters, a logger of sagemaker_core);
sagemaker_core's traceback printer is taken out again, so an uncaught error prints as Python's
own traceback on stderr, with the launcher's frames on top, also in a run that imports the SDK
(which fresh would print it on stdout, drawn by rich). Interpreter options read at start-up are
the server's: a run whose ``PYTHON*`` variables other than ``PYTHONPATH`` differ runs fresh.
Tests about start-up itself use ``subprocess`` directly; ``PYTEST_FRESH_INTERPRETERS=1`` runs
every CLI fresh, as before. ``tests/test_warm_cli.py`` compares warm runs with fresh ones.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

FRESH_ENV = "PYTEST_FRESH_INTERPRETERS"
PRELOAD = (
    "sagemaker_core.main.shapes",
    "pandas",
    "scipy.sparse",
    "boto3",
    "botocore.session",
    "s3transfer.manager",
    "jsonschema",
    "yaml",
    "requests",
    "packaging.specifiers",
    "google.protobuf.text_format",
)
LAUNCHER_ENDED = "the warm CLI launcher ended (its stderr is the test's; the next run starts one)"
# read by the interpreter at start-up, so a run that sets them differently runs fresh
_STARTUP_NAMES_IGNORED = ("PYTHONPATH",)


# -- the server (``python -c "from tests.warm_cli import serve; serve()"``) ------------------


def serve() -> None:
    """Preload, say ready, then fork one run per request line until stdin closes."""
    import contextlib
    import importlib
    import warnings

    out, err = io.StringIO(), io.StringIO()
    # the filters in force: what a fresh run would have shown (not, e.g., a compiler's
    # DeprecationWarning when a module is compiled afresh, which Python's defaults hide)
    with warnings.catch_warnings(record=True) as caught:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            for name in PRELOAD:
                importlib.import_module(name)
    noise = out.getvalue() + err.getvalue() + "".join(str(w.message) for w in caught)
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    requests = os.fdopen(os.dup(0), "r")
    os.dup2(2, 1)  # a stray print of the server's must not end up among its replies
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    replies.write(json.dumps({"ready": True, "noise": noise}) + "\n")
    for line in requests:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            requests.close()
            replies.close()
            _become_the_run(request)  # never returns: the run exits as an interpreter does
        replies.write(json.dumps({"pid": pid}) + "\n")
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"exit": os.waitstatus_to_exitcode(status)}) + "\n")


def _become_the_run(request: dict) -> None:
    import runpy

    os.setpgid(0, 0)  # a group of its own: a timeout ends the run and what it started
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(fd, 0)
    os.close(fd)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    # the server's own modules are not the run's: ``tests`` is found (or not) from the run's path
    own = __name__.split(".")[0]
    for name in [n for n in sys.modules if n == own or n.startswith(own + ".")]:
        del sys.modules[name]
    # sys.path as ``python -m`` builds it: the working directory, PYTHONPATH, then the rest
    pythonpath = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    rest = [p for p in sys.path[1:] if p not in pythonpath]
    sys.path[:] = [os.getcwd(), *pythonpath, *rest]
    _run_startup_hooks(pythonpath)
    # sagemaker_core's import (preloaded) installs rich's traceback printer, which writes to
    # stdout; a run that never imports the SDK must not have it. Uncaught errors print as
    # Python's own (on stderr) in every run: a run that imports the SDK would print them rich.
    sys.excepthook = sys.__excepthook__
    main = sys.modules["__main__"].__dict__
    for name in [n for n in main if n != "__builtins__"]:
        del main[name]
    sys.argv = ["-m", *request["argv"][1:]]
    # what ``python -m`` runs: the module as __main__, its errors (no such module) as -m's
    runpy._run_module_as_main(request["argv"][0])
    raise SystemExit(0)


def _run_startup_hooks(pythonpath: list[str]) -> None:
    """What ``site`` does at start-up that depends on the run's environment."""
    import importlib
    import site

    if any((Path(p) / "sitecustomize.py").is_file() for p in pythonpath):
        sys.modules.pop("sitecustomize", None)
        importlib.import_module("sitecustomize")
    for folder in site.getsitepackages():
        pth = Path(folder) / "smlocal.pth"
        if pth.is_file():
            for line in pth.read_text().splitlines():
                if line.startswith("import"):
                    exec(line)  # noqa: S102 -- as site.addpackage does


# -- the client ------------------------------------------------------------------------------


class WarmLauncher:
    """The test process's server, started on first use."""

    def __init__(self, cwd: Path):
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIPELINES_TARGET")}
        self.startup = _startup_variables(env)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from tests.warm_cli import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=cwd,
        )
        self.lock = threading.Lock()
        ready = json.loads(self.proc.stdout.readline() or "{}")
        if not ready.get("ready"):
            raise RuntimeError("the warm CLI launcher did not start (see its stderr)")
        if ready["noise"]:
            raise RuntimeError(
                "importing the warm launcher's PRELOAD printed or warned (a fresh run would show "
                f"it): {ready['noise'][:500]}"
            )
        atexit.register(self.close)

    def accepts(self, env: dict) -> bool:
        return self.proc.poll() is None and _startup_variables(env) == self.startup

    def run(self, argv: list[str], env: dict, cwd, timeout: float) -> subprocess.CompletedProcess:
        with self.lock, tempfile.TemporaryDirectory(prefix="warm-cli-") as folder:
            out, err = Path(folder) / "stdout", Path(folder) / "stderr"
            request = {
                "argv": argv,
                "env": env,
                "cwd": str(cwd),
                "stdout": str(out),
                "stderr": str(err),
            }
            try:
                self.proc.stdin.write(json.dumps(request) + "\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                raise RuntimeError(LAUNCHER_ENDED) from None
            pid = self._reply()["pid"]
            expired = threading.Event()
            timer = threading.Timer(timeout, lambda: (expired.set(), _kill_group(pid)))
            timer.start()
            try:
                code = self._reply()["exit"]
            finally:
                timer.cancel()
            stdout, stderr = out.read_text(errors="replace"), err.read_text(errors="replace")
            if expired.is_set():
                raise subprocess.TimeoutExpired(argv, timeout, stdout, stderr)
            return subprocess.CompletedProcess([sys.executable, "-m", *argv], code, stdout, stderr)

    def _reply(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:  # the next run_cli starts a new server
            raise RuntimeError(LAUNCHER_ENDED)
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _startup_variables(env: dict) -> dict:
    return {
        k: v for k, v in env.items() if k.startswith("PYTHON") and k not in _STARTUP_NAMES_IGNORED
    }


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


_launcher: WarmLauncher | None = None


def launcher(cwd: Path) -> WarmLauncher | None:
    """The process's warm launcher, or None where runs must be fresh interpreters."""
    global _launcher
    if os.environ.get(FRESH_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        return None
    if not hasattr(os, "fork") or not sys.platform.startswith("linux"):
        return None
    if _launcher is None or _launcher.proc.poll() is not None:
        _launcher = WarmLauncher(cwd)
    return _launcher
