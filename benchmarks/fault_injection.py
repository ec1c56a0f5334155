"""Fault injection: ``kill -9`` of ``run-pipeline --local`` at random moments of a small run.

Each trial starts ``run-pipeline -n tests.fixtures.small_pipeline --local`` (three short
processing steps, each starting a child process of its own) on one state folder, kills it
with SIGKILL at a random moment of a run's duration, then looks for:

- orphans: any process still carrying the trial's ``PIPELINES_LOCAL_HOME`` (fork server,
  step processes, their children) ``SETTLE_SECONDS`` after the kill;
- an inconsistent state: once read through the API (the next reader marks what the dead
  process left), ``PRAGMA integrity_check`` must say ok and no execution, step or job may
  be left running.

After the trials, a fresh run on the same state folder must succeed, and the state is
checked once more. Prints the figures; the test suite runs a few trials
(tests/test_fault_injection.py).

Usage: ``python benchmarks/fault_injection.py [--trials 20] [--seed N]``
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = "tests.fixtures.small_pipeline"
SETTLE_SECONDS = 5.0  # "within seconds": how long the run's processes get to end


@dataclass
class Figures:
    """What the trials found; both counts must be 0."""

    trials: int = 0
    orphans: int = 0
    inconsistent: int = 0
    problems: list = field(default_factory=list)
    fresh_run: str = ""
    run_seconds: float = 0.0

    def lines(self) -> list[str]:
        return [
            f"trials: {self.trials}",
            f"orphans found: {self.orphans}",
            f"states left inconsistent: {self.inconsistent}",
            f"fresh run afterwards: {self.fresh_run}",
            f"a whole run took: {self.run_seconds:.1f} s",
            *(f"  problem: {p}" for p in self.problems),
        ]


def environment(home: Path) -> dict:
    env = dict(os.environ)
    paths = [str(ROOT), str(ROOT / "local-target"), env.get("PYTHONPATH", "")]
    env.update(
        PIPELINES_LOCAL_HOME=str(home),
        PYTHONPATH=os.pathsep.join(p for p in paths if p),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def start_run(home: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.run_pipeline", "-n", MODULE, "--local", "-q"],
        cwd=ROOT,
        env=environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def full_run(home: Path) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    proc = start_run(home)
    out, err = proc.communicate(timeout=600)
    return time.monotonic() - started, subprocess.CompletedProcess(
        proc.args, proc.returncode, out, err
    )


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def processes_of(home: Path) -> list[int]:
    """Live processes (not zombies) whose environment names this state folder."""
    marker = f"PIPELINES_LOCAL_HOME={home}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                variables = f.read().split(b"\0")
        except OSError:
            continue
        if marker in variables and _alive(int(entry)):
            found.append(int(entry))
    return found


def orphans_after(home: Path, settle: float = SETTLE_SECONDS) -> list[int]:
    """The run's processes still alive ``settle`` seconds on (then killed, for the next trial)."""
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        left = processes_of(home)
        if not left:
            return []
        time.sleep(0.1)
    left = processes_of(home)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def read_jobs(home: Path) -> list[str]:
    """Read every job through the API, as the next reader does (it marks the lost ones)."""
    script = (
        "import boto3, smlocal\n"
        "with smlocal.local_target():\n"
        "    sm = boto3.client('sagemaker', region_name='us-east-1')\n"
        "    for kind in ('processing', 'training', 'transform'):\n"
        "        for page in sm.get_paginator(f'list_{kind}_jobs').paginate():\n"
        "            pass\n"
    )
    reader = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return [] if reader.returncode == 0 else [f"reading the jobs: {reader.stderr.strip()[-500:]}"]


def state_problems(home: Path) -> list[str]:
    """What is wrong with the state once the next reader has read it through the API."""
    reader = subprocess.run(
        [sys.executable, "-m", "smlocal.cli_state", "--output", "json", "list"],
        cwd=ROOT,
        env=environment(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    problems = [] if reader.returncode == 0 else [f"pipelines-local list: {reader.stderr.strip()}"]
    problems += read_jobs(home)
    path = home / "state.sqlite"
    if not path.exists():
        return problems
    conn = sqlite3.connect(path)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            problems.append(f"integrity_check: {check}")
        running = conn.execute(
            "SELECT 'execution ' || arn || ' ' || status FROM executions"
            " WHERE status IN ('Executing', 'Stopping')"
            " UNION ALL SELECT 'step ' || name || ' ' || status FROM steps"
            " WHERE status IN ('Executing', 'Stopping', 'Starting')"
        ).fetchall()
        problems += [f"left running: {row[0]}" for row in running]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "jobs" in tables:
            jobs = conn.execute(
                "SELECT key, status FROM jobs WHERE status IN ('InProgress', 'Stopping')"
            ).fetchall()
            problems += [f"job left running: {key} {status}" for key, status in jobs]
    finally:
        conn.close()
    return problems


def trials(count: int, seed: int | None = None, home: Path | None = None) -> Figures:
    """``count`` kills at random moments, then a fresh run and a final state check."""
    rng = random.Random(seed)
    home = Path(home or tempfile.mkdtemp(prefix="fault-injection-"))
    figures = Figures()
    seconds, first = full_run(home)  # also makes the image's environment once
    if first.returncode != 0:
        raise RuntimeError(f"the small run fails before any fault: {first.stderr[-2000:]}")
    figures.run_seconds = seconds
    for trial in range(count):
        moment = rng.uniform(0.0, seconds)
        proc = start_run(home)
        try:
            proc.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            proc.kill()
        proc.communicate()
        figures.trials += 1
        left = orphans_after(home)
        if left:
            figures.orphans += len(left)
            figures.problems.append(f"trial {trial} (kill at {moment:.1f} s): orphans {left}")
        problems = state_problems(home)
        if problems:
            figures.inconsistent += 1
            figures.problems += [f"trial {trial} (kill at {moment:.1f} s): {p}" for p in problems]
    _, fresh = full_run(home)
    figures.fresh_run = "succeeded" if fresh.returncode == 0 else f"failed: {fresh.stderr[-500:]}"
    left = orphans_after(home)
    problems = state_problems(home)
    figures.orphans += len(left)
    if problems:
        figures.inconsistent += 1
        figures.problems += [f"after the fresh run: {p}" for p in problems]
    return figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser("fault_injection", description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=20, help="kills to make (default 20)")
    parser.add_argument("--seed", type=int, default=None, help="for repeatable kill moments")
    args = parser.parse_args(argv)
    print("\n".join(trials(args.trials, args.seed).lines()))


if __name__ == "__main__":
    main()
