"""Makes a process see container paths (``/opt/ml/...``) inside a folder of its own.

The fallback of the container layout, where Linux namespaces are not allowed (macOS, kernels
or sandboxes that forbid user namespaces): every path-taking function of ``os``, ``io`` and
``builtins`` that Python code reaches (``open``, ``pathlib``, ``shutil`` with its
``copystat``, ``glob``, ``tarfile``, ``bz2``, pandas, numpy's text I/O, ``sqlite3.connect``, ...)
is wrapped to rewrite a mapped prefix, and ``os.getcwd``/``os.scandir`` answer in container
paths. Modules imported before the map was installed -- the fork server imports numpy and
pandas early -- keep references to the original functions; those references are replaced too,
so a process behaves the same whichever launcher started it.

Its limits (stated in the README): paths handed straight to C libraries (xgboost's
``save_model``/``DMatrix``) and programs other than Python do not see the map, and ``..``
from the container's root is the job's folder. Python's import system reads files through
its own bound functions: code that imports from a container path puts ``to_local(path)`` on
``sys.path`` instead.
"""

from __future__ import annotations

import builtins
import functools
import gc
import io
import json
import os
import sys
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
    "mkdir",
    "rmdir",
    "remove",
    "unlink",
    "chdir",
    "chmod",
    "lchmod",
    "chown",
    "lchown",
    "chflags",
    "lchflags",
    "utime",
    "truncate",
    "readlink",
    "statvfs",
    "pathconf",
    "mkfifo",
    "mknod",
    "listxattr",
    "getxattr",
    "setxattr",
    "removexattr",
)
_TWO_PATHS = ("rename", "replace", "link", "symlink")
# Modules whose functions are the originals themselves: never rewritten.
_LEFT_ALONE = ("builtins", "io", "_io", "os", "posix", "nt", __name__)


class PathMap:
    """Prefix rewriting, longest prefix first."""

    def __init__(self, mapping: dict[str, str]):
        self.rules = sorted(
            ((src.rstrip("/"), dst.rstrip("/")) for src, dst in mapping.items()),
            key=lambda rule: len(rule[0]),
            reverse=True,
        )

    def __call__(self, path: Any) -> Any:
        return self._rewrite(path, self.rules)

    def back(self, path: Any) -> Any:
        """The container path of a local one (the inverse rewrite)."""
        inverse = sorted(((d, s) for s, d in self.rules), key=lambda r: len(r[0]), reverse=True)
        return self._rewrite(path, inverse)

    @staticmethod
    def _rewrite(path: Any, rules: list) -> Any:
        if isinstance(path, int) or path is None:
            return path
        try:
            raw = os.fspath(path)
        except TypeError:
            return path
        is_bytes = isinstance(raw, bytes)
        text = os.fsdecode(raw) if is_bytes else raw
        for src, dst in rules:
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


class _Entry:
    """A ``DirEntry`` whose ``path`` is in container terms (the rest is the real entry's)."""

    def __init__(self, entry: os.DirEntry, path: str):
        self._entry, self.path, self.name = entry, path, entry.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._entry, name)

    def __fspath__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"<DirEntry {self.name!r}>"


class _Scandir:
    """``os.scandir`` of a container path: a context manager and iterator of ``_Entry``."""

    def __init__(self, iterator, path: Any):
        self._iterator, self._path = iterator, path

    def __iter__(self) -> "_Scandir":
        return self

    def __next__(self) -> _Entry:
        entry = next(self._iterator)
        return _Entry(entry, os.path.join(self._path, entry.name))

    def __enter__(self) -> "_Scandir":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._iterator.close()


def _wrap_scandir(func: Callable, remap: PathMap) -> Callable:
    @functools.wraps(func)
    def scandir(path="."):
        local = remap(path)
        if local is path or isinstance(path, (int, bytes)):
            return func(local)
        return _Scandir(func(local), os.fspath(path))

    return scandir


def _wrap_getcwd(func: Callable, remap: PathMap) -> Callable:
    @functools.wraps(func)
    def getcwd():
        return remap.back(func())

    return getcwd


def _rebind(replacements: dict[int, Callable], originals: list[Callable]) -> None:
    """Point references taken before the map at the wrapped functions.

    Module globals (``bz2._builtin_open``, ``tarfile.bltn_open``), dicts inside objects (numpy's
    file openers), class attributes (pathlib's accessor before Python 3.11), and the
    ``os.supports_*`` sets that ``shutil`` consults.
    """
    skip = {id(getattr(sys.modules.get(name), "__dict__", None)) for name in _LEFT_ALONE}
    for holder in gc.get_referrers(*originals):
        if isinstance(holder, set):
            holder.update(replacements[id(f)] for f in originals if f in holder)
        elif type(holder) is dict and id(holder) not in skip:
            for key, value in list(holder.items()):
                new = replacements.get(id(value))
                if new is None or key == "__wrapped__":
                    continue
                if "__module__" in holder and "__name__" not in holder:  # a class's namespace
                    _set_on_class(holder, key, new)  # (pathlib's accessor before Python 3.11)
                else:
                    holder[key] = new


def _set_on_class(namespace: dict, key: str, function: Callable) -> None:
    for owner in gc.get_referrers(namespace):
        if isinstance(owner, type) and owner.__dict__.get(key) is namespace.get(key):
            setattr(owner, key, staticmethod(function))  # a plain function would bind to self


_current = PathMap({})


def to_local(path: str) -> str:
    """The real path of a container path, for what bypasses the map (the import system)."""
    return _current(path)


def install(mapping: dict[str, str]) -> PathMap:
    """Rewrite mapped prefixes for the rest of this process (and its Python children)."""
    global _current
    remap = PathMap(mapping)
    _current = remap
    replacements: dict[int, Callable] = {}
    originals: list[Callable] = []

    def replace(owner: Any, name: str, wrapper: Callable) -> None:
        original = getattr(owner, name)
        wrapped = wrapper(original, remap)
        setattr(owner, name, wrapped)
        replacements[id(original)] = wrapped
        originals.append(original)

    for name in _ONE_PATH:
        if hasattr(os, name):
            replace(os, name, _wrap_first)
    for name in _TWO_PATHS:
        if hasattr(os, name):
            replace(os, name, _wrap_two)
    replace(os, "scandir", _wrap_scandir)
    replace(os, "getcwd", _wrap_getcwd)
    replace(os, "getcwdb", _wrap_getcwd)
    replace(io, "open", _wrap_first)
    builtins.open = io.open
    import sqlite3  # a C library, but its connect takes a path: cheap to map

    replace(sqlite3, "connect", _wrap_first)
    _rebind(replacements, originals)
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
