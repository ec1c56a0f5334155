"""Run a function on a module once it is imported (now, if it already is)."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from typing import Callable

_pending: dict[str, list[Callable]] = {}
_lock = threading.Lock()


def when_imported(name: str, callback: Callable) -> None:
    """Call ``callback(module)`` when ``name`` is imported, or now if it is already."""
    module = sys.modules.get(name)
    if module is not None:
        callback(module)
        return
    with _lock:
        _pending.setdefault(name, []).append(callback)
        if not any(isinstance(f, _Finder) for f in sys.meta_path):
            sys.meta_path.insert(0, _Finder())


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the real loader of the modules waited for."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _pending:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        original = spec.loader.exec_module

        def exec_module(module):
            original(module)
            with _lock:
                callbacks = _pending.pop(fullname, [])
            for callback in callbacks:
                callback(module)

        spec.loader.exec_module = exec_module
        return spec
