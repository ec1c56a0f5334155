"""A container's process: enter its filesystem, take its image's environment, run its command.

The same code runs in a child of the fork server and in a fresh interpreter
(``python -m smlocal.containers.launch --spec JSON``), so both launchers give the same process:

- ``namespaces``: the process enters its own mount namespace where the job's container folder
  is ``/`` (see ``layout``), so every program -- C libraries, ``bash``, any child -- sees
  ``/opt/ml`` and the container's working directory;
- ``map``: the Python-level path map (``remap``), for where namespaces are not allowed; only
  Python sees ``/opt/ml`` there.

A Python command (``python3 script.py ...``, ``python3 -m module ...``) runs in this process
(warm imports under the fork server); any other command is executed in its place.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Optional

NAMESPACES = "namespaces"
MAP = "map"
# Written by the process once its layout is made; read by the job (process.json).
LAYOUT_REPORT = "layout.json"
# The engine's pid, for a process it spawns (not forked by the fork server) to die with it.
PARENT_ENV = "PIPELINES_LOCAL_PARENT_PID"
PARENT_FD_ENV = "PIPELINES_LOCAL_PARENT_FD"  # a pipe's read end: EOF when the engine has gone


@dataclass
class ContainerSpec:
    """What a container process is: command, filesystem, working directory, environment."""

    command: list[str]  # as the container runs it, e.g. ["python3", "/opt/ml/code/train.py"]
    root: str  # host folder of the container's own files (its /opt/ml is root/opt/ml)
    workdir: str = "/"  # working directory, in the container's terms
    env: dict = field(default_factory=dict)  # the process's whole environment
    environment: Optional[str] = None  # host folder of the image's Python environment
    mechanism: str = MAP
    user_namespace: bool = True  # with namespaces: also a user namespace (not root)
    keep: list = field(default_factory=list)  # host folders that stay as they are, writable
    scratch: str = ""  # host folder for the overlays' work folders
    report: str = ""  # where to write how the layout was made (a JSON file), if anywhere
    layer: bool = True  # with namespaces: writes outside /opt/ml go to a layer of the job's

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "ContainerSpec":
        return cls(**json.loads(text))

    @property
    def ml(self) -> str:
        return os.path.join(self.root, "opt", "ml")

    def host_path(self, path: str) -> str:
        """Where a container path is on the host under the map (``/`` is the container folder)."""
        if path == "/opt/ml" or path.startswith("/opt/ml/"):
            return self.ml + path[len("/opt/ml") :]
        return self.root if path == "/" else path


def is_python(program: str) -> bool:
    """Whether a command's program is a Python interpreter (``python3``, ``/usr/bin/python3.11``)."""
    name = os.path.basename(str(program))
    return name in ("python", "python3") or (
        name.startswith("python3.") and name[len("python3.") :].isdigit()
    )


def python_program(command: list[str]) -> Optional[tuple[str, str, list[str]]]:
    """``("script", path, args)`` or ``("module", name, args)`` for a plain Python command."""
    if len(command) < 2 or not is_python(command[0]):
        return None
    if command[1] == "-m" and len(command) > 2:
        return "module", command[2], command[3:]
    if not command[1].startswith("-"):
        return "script", command[1], command[2:]
    return None


def enter(spec: ContainerSpec) -> None:
    """Become the container's process: filesystem, working directory, environment."""
    os.environ.clear()
    os.environ.update(spec.env)
    # what a fresh interpreter takes from its environment, for a process forked from the server
    sys.dont_write_bytecode = bool(spec.env.get("PYTHONDONTWRITEBYTECODE"))
    sys.pycache_prefix = spec.env.get("PYTHONPYCACHEPREFIX") or None
    if spec.mechanism == NAMESPACES:
        from smlocal.containers import layout, namespace

        started = time.perf_counter()
        try:
            namespace.enter(spec.user_namespace)
            made = layout.build(spec.root, spec.scratch, spec.keep, overlays=spec.layer)
        except OSError as err:
            raise SystemExit(
                f"could not make the container's layout with Linux namespaces: {err} "
                "(PIPELINES_LOCAL_CONTAINER=map runs jobs with the Python path map instead)"
            ) from None
        if spec.report:
            with open(spec.report, "w") as f:
                json.dump(
                    {
                        "overlays": made.overlays,
                        "host": made.host,
                        "problem": made.problem,
                        "setup_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                    f,
                )
        os.chroot(spec.root)
        os.chdir(spec.workdir)
    else:
        from smlocal.containers import remap

        remap.install({"/opt/ml": spec.ml})
        os.chdir(spec.host_path(spec.workdir))
    if spec.environment:
        from smlocal.containers import environments

        environments.activate(spec.environment)


def run(spec: ContainerSpec) -> None:
    """Enter the container and run its command (raises SystemExit as scripts do)."""
    from smlocal import activation, config

    parent_fd = os.environ.get(PARENT_FD_ENV)
    enter(spec)
    program = python_program(spec.command)
    if program is None:
        _exec(spec)  # keeps the parent-death signal: the program is this process
    if parent_fd:
        os.environ[PARENT_FD_ENV] = parent_fd
        watch_parent()
    if config.requested() and not activation.enabled():
        activation.enable()  # forked from a server started before the target was on
    kind, target, args = program
    if kind == "module":
        from smlocal.containers import remap

        sys.argv = [target] + args
        sys.path[0:1] = [remap.to_local(os.getcwd())]  # the import system does not see the map
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        local = spec.host_path(target) if spec.mechanism == MAP else target
        sys.argv = [target] + args
        sys.path[0:1] = [os.path.dirname(os.path.abspath(local))]
        runpy.run_path(local, run_name="__main__")


def _exec(spec: ContainerSpec) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(spec.command[0], spec.command, dict(os.environ))
    except OSError as err:
        print(f"{spec.command[0]}: cannot run: {err.strerror}", file=sys.stderr)
        raise SystemExit(127 if err.errno == 2 else 126) from None


def run_target(mapping: dict, target: list[str]) -> None:
    """The earlier interface: ``target`` (a script or ``-m module``, then arguments) under ``mapping``."""
    from smlocal import activation, config
    from smlocal.containers import remap

    if config.requested() and not activation.enabled():
        activation.enable()
    if mapping:
        remap.install(mapping)
    if target[0] == "-m":
        sys.argv = [target[1]] + target[2:]
        runpy.run_module(target[1], run_name="__main__", alter_sys=True)
    else:
        local_script = remap.PathMap(mapping)(target[0])
        sys.argv = [target[0]] + target[1:]
        sys.path.insert(0, os.path.dirname(local_script))
        runpy.run_path(local_script, run_name="__main__")


def die_with_parent() -> None:
    """Spawned by the engine (``PARENT_ENV`` set): end when it ends, even by ``kill -9``.

    Until the step runs, the kernel's parent-death signal ends this process (it comes when
    the engine's thread that started it ends; that thread waits for this process). Then
    ``watch_parent`` takes over, to end the programs the step starts as well.
    """
    parent = os.environ.pop(PARENT_ENV, "")
    if not parent or not sys.platform.startswith("linux"):
        return
    from smlocal.containers import namespace

    namespace.die_with_parent()
    if os.getppid() != int(parent):  # it ended before the line above
        os._exit(1)


def watch_parent() -> None:
    """End this process's whole group when the engine that spawned it has gone.

    The engine holds the write end of a pipe whose read end is ``PARENT_FD_ENV``: the read
    returns when the engine's process ends, however it ends. Started once the container is
    entered (entering needs a single thread); the parent-death signal is then dropped, so
    the group -- the step's own children too -- is killed, not this process alone.
    """
    fd = os.environ.pop(PARENT_FD_ENV, "")
    if not fd or not sys.platform.startswith("linux"):
        return
    import signal
    import threading

    from smlocal.containers import namespace

    read_end = int(fd)
    os.set_inheritable(read_end, False)

    def watch() -> None:
        try:
            while os.read(read_end, 1):
                pass
        except OSError:
            pass
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    namespace.die_with_parent(0)


def main(argv: list[str]) -> None:
    die_with_parent()
    if argv[:1] == ["--spec"]:
        run(ContainerSpec.from_json(argv[1]))
    else:
        run_target(json.loads(argv[0]), argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
