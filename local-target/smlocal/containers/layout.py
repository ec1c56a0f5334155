"""A container's filesystem, made of the host's, inside the step's own mount namespace.

The job's container folder (``<job>/container``) becomes the process's root:

- each top-level folder of the host (``/usr``, ``/etc``, ``/home``, the Python environment's
  folder, ...) is an overlay: the host's files read through, what the step writes there lands
  in ``<job>/container/<folder>`` -- the step's writable layer, as a container's -- and never
  in the host's files;
- ``/opt/ml`` is the job's folder, ``/tmp`` is the job's own (``<job>/container/tmp``);
- folders the host has other filesystems mounted in (``/proc``, ``/dev``, ``/sys``, ...) are
  the host's, as they are;
- ``keep`` paths (the state folder, with the job's folder and the image environments) are the
  host's, writable: a script's own AWS calls reach the local services' state through them.

Where the kernel refuses an overlay (say, the job folder is on a filesystem that cannot hold
an overlay's upper layer), folders are the host's instead, and ``Layer.complete`` says so.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import time
from dataclasses import dataclass, field
from typing import Iterable

from smlocal.containers.namespace import MS_BIND, MS_NODEV, MS_NOSUID, MS_REC, mount

ML = "/opt/ml"
_OCTAL = re.compile(r"\\([0-7]{3})")
PRIVATE = ("tmp",)  # the container's own, empty at the start
TIDY_ATTEMPTS = 50


@dataclass
class Layer:
    """How the root was made: which folders are overlays, and why some are not."""

    overlays: list[str] = field(default_factory=list)
    host: list[str] = field(default_factory=list)
    problem: str = ""

    @property
    def complete(self) -> bool:
        return not self.problem


def mount_points(mountinfo: str) -> list[str]:
    """Where filesystems are mounted (``/proc/self/mountinfo``), but ``/``."""
    points = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[4] != "/":
            points.append(_OCTAL.sub(lambda m: chr(int(m.group(1), 8)), fields[4]))  # "\040"
    return points


def outermost(points: list[str]) -> list[str]:
    """The mount points not inside another one: binding those brings the others along."""
    kept: list[str] = []
    for point in sorted(set(points), key=len):
        if not any(point == k or point.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(point)
    return kept


def build(root: str, scratch: str, keep: Iterable[str], overlays: bool = True) -> Layer:
    """Make ``root`` the container's filesystem (mounts only; the caller then chroots).

    One overlay of the host's ``/`` where the kernel allows it (outside a user namespace),
    with the host's other filesystems bound in where they are mounted; else one overlay per
    top-level folder (inside a user namespace, folders with mounts under them cannot be one,
    and are the host's). ``overlays=False``: the host's folders as they are.
    """
    with open("/proc/self/mountinfo") as f:
        points = mount_points(f.read())
    for own in (ML, "/tmp"):
        os.makedirs(root + own, exist_ok=True)
    os.chmod(root + "/tmp", 0o1777)
    # the job's own folders, opened before overlays cover their paths
    fds = {own: os.open(root + own, os.O_RDONLY | os.O_DIRECTORY) for own in (ML, "/tmp")}
    layer = Layer(problem="" if overlays else "no writable layer: written files reach the host")
    try:
        if overlays and _whole_root(root, scratch, layer):
            for point in outermost(points):
                if point.split("/")[1] not in PRIVATE and os.path.lexists(root + point):
                    mount(point, root + point, None, MS_BIND | MS_REC)
                    layer.host.append(point)
        else:
            busy = {point.split("/")[1] for point in points}
            for entry in sorted(os.scandir("/"), key=lambda e: e.name):
                if entry.name not in PRIVATE:
                    _add(entry, root, scratch, busy, layer)
        for own, fd in fds.items():
            os.makedirs(root + own, exist_ok=True)
            mount(f"/proc/self/fd/{fd}", root + own, None, MS_BIND | MS_REC)
    finally:
        for fd in fds.values():
            os.close(fd)
    for path in keep:
        _bind_back(path, root)
    return layer


def _whole_root(root: str, scratch: str, layer: Layer) -> bool:
    """One overlay of the host's ``/`` on ``root``; False where the kernel refuses it."""
    work = os.path.join(scratch, ".whole")
    os.makedirs(work, exist_ok=True)
    try:
        mount("overlay", root, "overlay", 0, _options("/", root, work))
    except OSError:  # in a user namespace: "/" has mounts under it that cannot be cloned
        return False
    layer.overlays.append("/")
    return True


def _options(lower: str, upper: str, work: str) -> str:
    # userxattr: the overlay's own attributes in the user.* namespace (allowed to everyone);
    # volatile: no flush of the layer when the step ends (it is scratch, not a database)
    return f"lowerdir={lower},upperdir={upper},workdir={work},userxattr,volatile"


def _add(entry: os.DirEntry, root: str, scratch: str, busy: set, layer: Layer) -> None:
    name, target = entry.name, os.path.join(root, entry.name)
    if entry.is_symlink():
        if not os.path.lexists(target):
            os.symlink(os.readlink(entry.path), target)
    elif entry.is_dir():
        os.makedirs(target, exist_ok=True)
        if name not in busy and not layer.problem and _overlay(entry, target, scratch, layer):
            return
        if name == "opt":
            _opt_without_overlay(entry.path, target)
        else:
            mount(entry.path, target, None, MS_BIND | MS_REC)
        layer.host.append(entry.path)
    elif entry.is_file():
        if not os.path.exists(target):
            open(target, "x").close()
        mount(entry.path, target, None, MS_BIND)


def _overlay(entry: os.DirEntry, upper: str, scratch: str, layer: Layer) -> bool:
    work = os.path.join(scratch, entry.name)
    os.makedirs(work, exist_ok=True)
    info = entry.stat()
    os.chmod(upper, stat.S_IMODE(info.st_mode))  # an overlay's root takes its upper's mode
    if os.getuid() == 0:
        os.chown(upper, info.st_uid, info.st_gid)
    try:
        mount("overlay", upper, "overlay", 0, _options(entry.path, upper, work))
    except OSError as err:
        layer.problem = f"no overlay on {entry.path} ({err.strerror}): written files reach the host"
        return False
    layer.overlays.append(entry.path)
    return True


def _opt_without_overlay(host_opt: str, target: str) -> None:
    """``/opt`` as a small tmpfs holding the host's entries, so that ``/opt/ml`` can exist."""
    entries = list(os.scandir(host_opt))
    fds = {e.name: os.open(e.path, os.O_PATH | os.O_NOFOLLOW) for e in entries}
    try:
        mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
        for entry in entries:
            point = os.path.join(target, entry.name)
            if entry.is_symlink():
                os.symlink(os.readlink(entry.path), point)
                continue
            if entry.is_dir():
                os.mkdir(point)
            else:
                open(point, "x").close()
            mount(f"/proc/self/fd/{fds[entry.name]}", point, None, MS_BIND | MS_REC)
    finally:
        for fd in fds.values():
            os.close(fd)


def _bind_back(path: str, root: str) -> None:
    """A host path, writable and as it is, at the same place in the container."""
    if not os.path.isdir(path):
        return
    target = root + os.path.abspath(path)
    os.makedirs(target, exist_ok=True)
    try:
        mount(path, target, None, MS_BIND)
    except OSError:  # something is mounted inside it: take that along
        mount(path, target, None, MS_BIND | MS_REC)


def tidy(root: str, scratch: str) -> None:
    """After the step: drop mount points and empty layers, keep what the step wrote.

    ``scratch`` goes last: once it is gone, the container folder is as the step left it.
    """
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        entries = []
    for entry in entries:
        host = os.path.join("/", entry.name)
        try:
            if entry.is_symlink() and os.path.islink(host):
                if os.readlink(entry.path) == os.readlink(host):
                    os.unlink(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                if entry.name != "opt":
                    _remove_empty_tree(entry.path)
            elif entry.is_file(follow_symlinks=False) and os.path.isfile(host):
                if entry.stat().st_size == 0:
                    os.unlink(entry.path)
        except OSError:
            continue
    for _ in range(TIDY_ATTEMPTS):  # until the kernel has let go of the overlays' work folders
        for dirpath, dirnames, _ in os.walk(scratch):
            for name in dirnames:  # it leaves them without permissions
                try:
                    os.chmod(os.path.join(dirpath, name), 0o700)
                except OSError:
                    pass
        shutil.rmtree(scratch, ignore_errors=True)
        if not os.path.exists(scratch):
            return
        time.sleep(0.1)


def _remove_empty_tree(path: str) -> None:
    """Remove the empty folders under ``path`` (and ``path`` if it ends up empty)."""
    for dirpath, _, _ in os.walk(path, topdown=False):
        try:
            os.rmdir(dirpath)
        except OSError:
            continue
