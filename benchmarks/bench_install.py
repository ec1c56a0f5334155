"""Benchmark of the install: prints figures, asserts nothing.

For each way of installing (``pip install .``, which compiles every module of every dependency
to bytecode, and ``pip install --no-compile .``, which leaves that to Python on first import),
in a fresh virtual environment made with this Python:

- the install's wall time and the environment's size on disk (MiB, and MB as pip and disks
  count), with the empty environment's own size beside it;
- the README's run command's run (``run-pipeline -n pipelines.abalone.pipeline --local``),
  twice: the first pays for compiling what it imports (``--no-compile``) and for cold file
  caches, the second is a normal run; and the environment's size after them.

Usage: ``python benchmarks/bench_install.py [--modes compile,no-compile] [--keep DIR]``.
Needs the package index pip is configured with (or its cache); the checkout is this one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODES = {"compile": [], "no-compile": ["--no-compile"]}
MIB = 1024 * 1024


def size_of(folder: Path) -> int:
    """Bytes on disk (allocated blocks, as ``du``), links not followed."""
    total = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


def figure(size: int) -> str:
    return f"{size / MIB:.0f} MiB ({size / 1e6:.0f} MB)"


def timed(argv, env=None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, result


def measure(mode: str, work: Path) -> None:
    venv = work / f"venv-{mode}"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    empty = size_of(venv)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "PYTHONPATH")
    }
    env.update(
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIPELINES_LOCAL_HOME=str(work / f"state-{mode}"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    seconds, result = timed(
        [str(venv / "bin" / "pip"), "install", "-q", *MODES[mode], str(ROOT)], env=env
    )
    if result.returncode != 0:
        print(f"{mode}: pip install failed:\n{result.stderr[-2000:]}", file=sys.stderr)
        return
    installed = size_of(venv)
    print(f"pip install {' '.join(MODES[mode] + ['.'])}")
    print(f"  install: {seconds:.0f} s; environment {figure(installed)}, empty {figure(empty)}")
    for attempt in ("first", "second"):
        seconds, result = timed(
            [
                str(venv / "bin" / "run-pipeline"),
                "-n",
                "pipelines.abalone.pipeline",
                "--local",
                "--quiet",
            ],
            env=env,
        )
        outcome = result.stdout.strip().splitlines()[-1:] or [result.stderr.strip()[-300:]]
        print(f"  {attempt} run: {seconds:.1f} s ({outcome[0]})")
    print(f"  environment after the runs: {figure(size_of(venv))}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="compile,no-compile", help="compile, no-compile")
    parser.add_argument("--keep", type=Path, help="make the environments here and keep them")
    args = parser.parse_args(argv)
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    for mode in modes:
        if mode not in MODES:
            parser.error(f"--modes: {mode!r} is not one of {', '.join(MODES)}")
    work = Path(tempfile.mkdtemp(prefix="bench-install-", dir=args.keep))
    try:
        print(
            f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
        )
        for mode in modes:
            measure(mode, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
