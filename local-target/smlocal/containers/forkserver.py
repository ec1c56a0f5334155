"""A warm process that forks step processes, so steps do not pay for imports.

A step's process spends most of its life importing pandas, scikit-learn and xgboost (about
1.5 s each time). This server imports them once, then forks one child per step request; each
child starts its own session, redirects its output to the step's logs, and becomes the
container's process (``launch.run``), exactly as it would in a fresh interpreter. A child dies
with the server (``PR_SET_PDEATHSIG``): no step's process outlives the server that answers
for it.

Protocol (one JSON object per line): requests on stdin ``{"id", "spec", "stdout", "stderr"}``
(or the earlier ``{"id", "target", "mapping", "env", "cwd", ...}``); answers on stdout
``{"ready": true}`` once, then ``{"id", "pid"}`` and later ``{"id", "exit", "max_rss_kib"}``
per request.
The server exits when its stdin closes -- also when the engine's process is killed -- and
ends its running steps' process groups first. Linux only: forking a process that has loaded these
libraries is not safe on macOS.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import selectors
import signal
import sys
import traceback

LIBRARIES = (
    "numpy",
    "pandas",
    "sklearn.compose",
    "sklearn.impute",
    "sklearn.metrics",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "xgboost",
    # not matplotlib: no container's own program needs it, and importing it (about a second of
    # CPU) would be paid by every run, refused ones included; a step that plots imports it
)
OWN_MODULES = (
    "smlocal.containers.launch",
    "smlocal.containers.namespace",
    "smlocal.containers.layout",
    "smlocal.containers.environments",
    "smlocal.containers.remap",
    # not the algorithm module itself: it runs as __main__, and runpy warns when the module
    # it runs was imported before (the warning would head every training log)
)


def _import_each(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            continue  # a missing library is imported (and reported) by the step itself


def preload() -> None:
    """Import the libraries the steps use, then our container modules.

    A trace function in this process (coverage's, a debugger's) is paused while the libraries
    load: on Python 3.11 one slows every frame, traced or not (the libraries' imports took
    4.5 CPU-s under coverage, 2.6 without), and their code is nobody's under test. Our own
    modules load traced, and the step processes forked later inherit the trace function.
    """
    tracer = sys.gettrace()
    sys.settrace(None)
    try:
        _import_each(LIBRARIES)
    finally:
        sys.settrace(tracer)
    _import_each(OWN_MODULES)


def _child(request: dict, keep_closed: list[int], server: int) -> None:
    """In the forked child: become the step's process, run it, never return."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.setsid()
        from smlocal.containers import namespace

        namespace.die_with_parent()
        if os.getppid() != server:  # the server died before the line above
            os._exit(1)
        for fd in keep_closed:
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True)
        from smlocal.containers import launch

        if "spec" in request:
            launch.run(launch.ContainerSpec(**request["spec"]))
        else:
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            sys.path[0] = request["cwd"]
            launch.run_target(request["mapping"], request["target"])
        code = 0
    except SystemExit as exit_:
        if exit_.code is None:
            code = 0
        elif isinstance(exit_.code, int):
            code = exit_.code
        else:
            print(exit_.code, file=sys.stderr)
            code = 1
    except BaseException:  # the step's own error: its traceback goes to its stderr log
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # a closed or broken stream must not keep the child alive
                pass
        os._exit(code)


@contextlib.contextmanager
def dying_with_engine():
    """While the server reads no input (its imports), the kernel ends it with the engine.

    Afterwards the closing of its input says so. The parent-death signal is not kept: it
    would come when the engine's thread that started the server ends, not the engine.
    """
    from smlocal.containers import launch, namespace

    parent = os.environ.pop(launch.PARENT_ENV, "")
    if parent:
        namespace.die_with_parent()
        if os.getppid() != int(parent):  # it ended before the line above
            os._exit(1)
    try:
        yield
    finally:
        if parent:
            namespace.die_with_parent(0)
            if os.getppid() != int(parent):
                os._exit(1)


def end_children(children: dict[int, int]) -> None:
    """Kill every running step's process group: what the steps started ends with them.

    Each child leads its own session, so its group holds the programs it started too; a
    child that has not yet left the server's group is killed alone.
    """
    for pid in list(children):
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue


def serve() -> None:
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)  # nothing but answers may reach the engine
    with dying_with_engine():
        preload()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children: dict[int, int] = {}
    server_pid = os.getpid()

    def answer(message: dict) -> None:
        answers.write(json.dumps(message) + "\n")

    def reap() -> None:
        while children:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            answer(
                {
                    "id": children.pop(pid),
                    "exit": os.waitstatus_to_exitcode(status),
                    "max_rss_kib": usage.ru_maxrss,
                }
            )

    answer({"ready": True})
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    pending = b""
    while True:
        for key, _ in selector.select():
            if key.fd == wake_r:
                os.read(wake_r, 4096)
                continue
            data = os.read(0, 1 << 16)
            if not data:  # the engine's process has gone (or closed us): so do the steps
                end_children(children)
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                answers.flush()
                pid = os.fork()
                if pid == 0:
                    _child(
                        request,
                        [answers.fileno(), wake_r, wake_w, selector.fileno()],
                        server=server_pid,
                    )
                children[pid] = request["id"]
                answer({"id": request["id"], "pid": pid})
        reap()


if __name__ == "__main__":
    serve()
