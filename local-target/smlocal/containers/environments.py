"""Per-image Python environments, layered over the user's: a step never changes the user's.

A step runs in the Python environment of its image: a virtual environment made once per image
(and per user environment and Python version) under ``<home>/environments/``, with the user's
site packages visible behind its own. What a step installs -- a script's ``pip install``, a
source folder's ``requirements.txt`` -- lands there and is there for the image's next steps;
the user's environment is never written. ``python3``, ``python`` and ``pip`` on the step's
``PATH`` are the environment's.

``python -m smlocal.containers.environments list`` shows them; ``... clear [NAME ...]``
removes them (all, or those named); they are plain folders, so ``rm -rf`` works too.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import site
import subprocess
import sys
import venv
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional

FOLDER = "environments"
RECORD = "environment.json"
LAYER_PTH = "_pipelines_local_user_environment.pth"  # puts the user's site packages behind
PIP_LAUNCHER = "#!{python}\nimport sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n"


@dataclass(frozen=True)
class Environment:
    """One image's environment (a virtual environment folder)."""

    path: Path

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python3"

    @property
    def site_packages(self) -> Path:
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        return self.path / "lib" / version / "site-packages"

    def own_packages(self) -> list[str]:
        """What was installed here (the user's packages are not: they are behind)."""
        try:
            names = os.listdir(self.site_packages)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if n not in (LAYER_PTH, "__pycache__"))

    def variables(self, path: Optional[str] = None) -> dict:
        """Environment variables of a process running in it (``PATH`` finds its programs)."""
        search = path if path is not None else os.environ.get("PATH", os.defpath)
        return {"VIRTUAL_ENV": str(self.path), "PATH": os.pathsep.join([str(self.bin), search])}


def name_for(image: str) -> str:
    """A readable, unique folder name: the image's repository and tag, and a hash."""
    key = "\n".join([image, sys.prefix, sys.version])
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", image.rsplit("/", 1)[-1].replace(":", "-"))
    return f"{readable[:60] or 'image'}-{digest}"


def user_site_folders() -> list[str]:
    """The site-packages folders of the environment this process runs in."""
    folders = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        folders.append(site.getusersitepackages())
    return [f for f in dict.fromkeys(folders) if os.path.isdir(f)]


@contextlib.contextmanager
def _locked(folder: Path, name: str) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure(home: Path, image: str) -> Environment:
    """The image's environment, made on first use (steps running at once wait for it)."""
    name = name_for(image)
    environment = Environment(Path(home) / FOLDER / name)
    if (environment.path / RECORD).is_file():
        return environment
    with _locked(Path(home) / FOLDER, name):
        if not (environment.path / RECORD).is_file():
            _create(environment, image)
    return environment


def _create(environment: Environment, image: str) -> None:
    venv.EnvBuilder(symlinks=True, with_pip=False, clear=True).create(str(environment.path))
    lines = "".join(f"import site; site.addsitedir({folder!r})\n" for folder in user_site_folders())
    environment.site_packages.mkdir(parents=True, exist_ok=True)
    (environment.site_packages / LAYER_PTH).write_text(lines)
    if importlib.util.find_spec("pip") is not None:
        for name in ("pip", "pip3", f"pip{sys.version_info.major}.{sys.version_info.minor}"):
            launcher = environment.bin / name
            launcher.write_text(PIP_LAUNCHER.format(python=environment.python))
            launcher.chmod(0o755)
    else:  # the user's environment has no pip to lend: the environment gets its own
        subprocess.run([str(environment.python), "-m", "ensurepip", "-q"], check=True)
    record = {
        "image": image,
        "user_environment": sys.prefix,
        "python": sys.version.split()[0],
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    (environment.path / RECORD).write_text(json.dumps(record, indent=1))


def activate(path: str) -> None:
    """Make this (forked) process one of the environment's, as its own interpreter would be."""
    environment = Environment(Path(path))
    sys.executable = str(environment.python)
    sys.prefix = sys.exec_prefix = str(environment.path)
    folder = str(environment.site_packages)
    if folder in sys.path:
        return
    first_site = next(
        (i for i, p in enumerate(sys.path) if p.endswith(("site-packages", "dist-packages"))),
        len(sys.path),
    )
    sys.path.insert(first_site, folder)
    known = set(sys.path)
    for name in sorted(os.listdir(folder)):
        if name.endswith(".pth") and name != LAYER_PTH:
            site.addpackage(folder, name, known)


def listing(home: Path) -> list[dict]:
    """Each environment: its folder name, image, size and creation time."""
    found = []
    for record in sorted((Path(home) / FOLDER).glob(f"*/{RECORD}")):
        info = json.loads(record.read_text())
        size = sum(f.stat().st_size for f in record.parent.rglob("*") if f.is_file())
        found.append({"name": record.parent.name, "bytes": size, **info})
    return found


def clear(home: Path, names: tuple[str, ...] = ()) -> list[str]:
    """Remove the environments named (all when none is); returns the names removed."""
    folder = Path(home) / FOLDER
    targets = (
        [folder / n for n in names] if names else sorted(p for p in folder.glob("*") if p.is_dir())
    )
    removed = []
    for path in targets:
        if path.is_dir() and path.parent == folder:
            shutil.rmtree(path)
            removed.append(path.name)
    return removed


def main(argv: Optional[list[str]] = None) -> int:
    from smlocal import config

    parser = argparse.ArgumentParser(prog="python -m smlocal.containers.environments")
    parser.add_argument("action", choices=["list", "clear"])
    parser.add_argument("names", nargs="*", help="environments to clear (default: all)")
    args = parser.parse_args(argv)
    home = config.home()
    if args.action == "list":
        for item in listing(home):
            print(
                f"{item['name']}\t{item['image']}\t{item['bytes'] / 2**20:.1f} MiB\t{item['created']}"
            )
        print(f"({home / FOLDER})")
        return 0
    for name in clear(home, tuple(args.names)):
        print(f"removed {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
