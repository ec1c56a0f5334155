"""Makes a process see container paths (``/opt/ml/...``) inside a folder of its own.

Scripts written for SageMaker hard-code ``/opt/ml/processing/...``; without root (and on
macOS) we cannot bind-mount there. Instead every path-taking function of ``os``, ``io`` and
``builtins`` that Python code reaches (``open``, ``pathlib``, ``shutil``, ``glob``, pandas,
numpy, tarfile, ...) is wrapped to rewrite a mapped prefix. Paths handed straight to C
libraries (e.g. ``xgboost.DMatrix("/opt/ml/...")``) and non-Python child processes are not
rewritten: that is this mechanism's limit, stated in the README. Python's import system
reads files through its own bound functions too: code that imports from a container path
puts ``to_local(path)`` on ``sys.path`` instead.
"""

from __future__ import annotations

import builtins
import functools
import io
import json
import os
from typing import Any, Callable

ENV_VAR = "PIPELINES_LOCAL_PATH_MAP"
# Holds a sitecustomize that re-installs the map in Python child processes.
SITE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "site")

# Functions whose first argument is a path (the ones Python's own file code goes through).
_ONE_PATH = (
    "open",
    "stat",
    "lstat",
    "access",
    "listdir",
    "scandir",
    "mkdir",
    "rmdir",
    "remove",
    "unlink",
    "chdir",
    "chmod",
    "utime",
    "truncate",
    "readlink",
    "statvfs",
)
_TWO_PATHS = ("rename", "replace", "link", "symlink")


class PathMap:
    """Prefix rewriting, longest prefix first."""

    def __init__(self, mapping: dict[str, str]):
        self.rules = sorted(
            ((src.rstrip("/"), dst.rstrip("/")) for src, dst in mapping.items()),
            key=lambda rule: len(rule[0]),
            reverse=True,
        )

    def __call__(self, path: Any) -> Any:
        if isinstance(path, int) or path is None:
            return path
        try:
            raw = os.fspath(path)
        except TypeError:
            return path
        is_bytes = isinstance(raw, bytes)
        text = os.fsdecode(raw) if is_bytes else raw
        for src, dst in self.rules:
            if text == src or text.startswith(src + "/"):
                text = dst + text[len(src) :]
                return os.fsencode(text) if is_bytes else text
        return path


def _wrap_first(func: Callable, remap: PathMap) -> Callable:
    @functools.wraps(func)
    def wrapper(path, *args, **kwargs):
        return func(remap(path), *args, **kwargs)

    return wrapper


def _wrap_two(func: Callable, remap: PathMap) -> Callable:
    @functools.wraps(func)
    def wrapper(src, dst, *args, **kwargs):
        return func(remap(src), remap(dst), *args, **kwargs)

    return wrapper


def _patch_captured_references(wrapped_open: Callable) -> None:
    """Standard modules that keep their own reference to a file function from import time."""
    import tarfile

    tarfile.bltn_open = wrapped_open  # tarfile writes extracted members with it
    import pathlib

    accessor = getattr(pathlib, "_NormalAccessor", None)  # Python < 3.11 binds os functions here
    if accessor is not None:
        for name in dir(accessor):
            function = getattr(os, name, None)
            if not name.startswith("_") and callable(function):
                setattr(accessor, name, staticmethod(function))
        accessor.open = staticmethod(wrapped_open)


_current = PathMap({})


def to_local(path: str) -> str:
    """The real path of a container path, for what bypasses the map (the import system)."""
    return _current(path)


def install(mapping: dict[str, str]) -> PathMap:
    """Rewrite mapped prefixes for the rest of this process (and its Python children)."""
    global _current
    remap = PathMap(mapping)
    _current = remap
    for name in _ONE_PATH:
        if hasattr(os, name):
            setattr(os, name, _wrap_first(getattr(os, name), remap))
    for name in _TWO_PATHS:
        if hasattr(os, name):
            setattr(os, name, _wrap_two(getattr(os, name), remap))
    wrapped_open = _wrap_first(io.open, remap)
    builtins.open = wrapped_open
    io.open = wrapped_open
    _patch_captured_references(wrapped_open)
    os.environ[ENV_VAR] = json.dumps(mapping)
    if SITE_DIR not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [SITE_DIR, os.environ.get("PYTHONPATH")])
        )
    return remap


_installed = False


def install_from_environment() -> None:
    """Used by child Python processes that inherit the mapping (once per process)."""
    global _installed
    raw = os.environ.get(ENV_VAR)
    if raw and not _installed:
        install(json.loads(raw))
        _installed = True
