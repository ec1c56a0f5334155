"""Linux user and mount namespaces: the few system calls a container layout needs, and a probe.

A step's process enters a mount namespace of its own (and, unless it runs as root, a user
namespace in which the user is mapped to itself, so files keep the user's ownership). Mounts
made there are private to the step: nobody else sees them, and they vanish with its last
process. Whether the kernel allows this is found out once per process by a probe in a child
(``python -S namespace.py --probe``), since some kernels and sandboxes forbid it.

Only the standard library is used, so the probe runs without site packages.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import subprocess
import sys
from typing import Optional

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_PDEATHSIG = 1
PROBE_TIMEOUT_SECONDS = 10.0

_libc: Optional[ctypes.CDLL] = None


def _c() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def unshare(flags: int) -> None:
    if hasattr(os, "unshare"):  # Python 3.12
        os.unshare(flags)
    else:
        _check(_c().unshare(flags), "unshare")


def mount(
    source: Optional[str], target: str, fstype: Optional[str], flags: int, data: str = ""
) -> None:
    encode = lambda text: text.encode() if text else None  # noqa: E731 - local shorthand
    _check(
        _c().mount(encode(source), target.encode(), encode(fstype), flags, encode(data)),
        f"mount {fstype or 'bind'} {source or ''} on {target}",
    )


def die_with_parent(signal_number: int = 9) -> None:
    """Be killed when the parent process ends (a fork server's child must not outlive it)."""
    _check(_c().prctl(PR_SET_PDEATHSIG, signal_number, 0, 0, 0), "prctl")


def enter(user_namespace: bool) -> None:
    """Enter a new mount namespace (in a new user namespace, mapping the user to itself).

    The calling process must be single-threaded. Mounts then stay private to it.
    """
    uid, gid = os.getuid(), os.getgid()
    if user_namespace:
        unshare(CLONE_NEWUSER | CLONE_NEWNS)
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    else:
        unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def probe() -> dict:
    """In this (disposable) process: can it enter namespaces and mount there? Which way?"""
    attempts = [False, True] if os.getuid() == 0 else [True]
    errors = []
    for user_namespace in attempts:
        try:
            enter(user_namespace)
            mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
            return {"available": True, "user_namespace": user_namespace}
        except OSError as err:
            errors.append(str(err))
            if err.errno not in (errno.EPERM, errno.EINVAL, errno.ENOSPC, errno.EACCES):
                break
    return {"available": False, "reason": "; ".join(errors)}


_probed: Optional[dict] = None


def availability() -> dict:
    """``{"available": bool, "user_namespace": bool}`` or a ``reason``; probed once per process."""
    global _probed
    if _probed is None:
        if not sys.platform.startswith("linux"):
            _probed = {"available": False, "reason": f"{sys.platform} has no Linux namespaces"}
        else:
            try:
                result = subprocess.run(
                    [sys.executable, "-S", os.path.abspath(__file__), "--probe"],
                    capture_output=True,
                    text=True,
                    timeout=PROBE_TIMEOUT_SECONDS,
                    cwd="/",
                )
                _probed = json.loads(result.stdout)
            except (OSError, ValueError, subprocess.SubprocessError) as err:
                _probed = {"available": False, "reason": f"the probe failed: {err}"}
    return _probed


if __name__ == "__main__" and sys.argv[1:] == ["--probe"]:
    print(json.dumps(probe()))
