"""Benchmark of the local target: prints figures, asserts nothing.

Measures on this machine, in paired runs (one ``import sagemaker``, then one run, and again:
both see the same load, which on a shared machine changes from minute to minute):

- ``python -c "import sagemaker"`` wall time (the floor of any SDK-based CLI);
- ``run-pipeline -n pipelines.abalone.pipeline --local --quiet`` end to end, and its ratio to
  the above (medians);
- with both step launchers: the fork server (warm imports, the default on Linux) and fresh
  interpreters (``PIPELINES_LOCAL_FORKSERVER=0``, as on macOS and Windows);
- per step: the time recorded, its process's time, the engine's overhead, and the step's own
  peak memory: under the fork server, the step's peak RSS minus that of a forked step that
  does nothing (what it uses of the server's preloaded libraries); fresh interpreters record
  none (``jobs.process`` keeps no RSS for them);
- the execution's picture, drawn on request (``pipelines-local picture``), timed on its own;
- the same pipeline on inputs resampled from the real data (250k, 500k, 1M rows) to show how
  cost grows with size.

Usage: ``python benchmarks/bench_local_run.py [--repeat 5] [--sizes 250000,500000,1000000]``
(the scaling inputs are resampled from the data set the local target ships).
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

MODULE = "pipelines.abalone.pipeline"
DEFAULT_DATA = Path(str(importlib.resources.files("smlocal") / "data" / "abalone-dataset.csv"))
LAUNCHERS = {"fork server": "1", "fresh interpreters": "0"}


def timed(argv, env=None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, result


def environment(home: Path, forkserver: str = "1") -> dict:
    return {
        **os.environ,
        "PIPELINES_LOCAL_HOME": str(home),
        "PIPELINES_LOCAL_FORKSERVER": forkserver,
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }


def sdk_import(env: dict) -> float:
    seconds, _ = timed([sys.executable, "-c", "import sagemaker"], env)
    return seconds


def run_local(env: dict, parameters: dict | None = None) -> float:
    argv = [sys.executable, "-m", "pipelines.run_pipeline", "-n", MODULE, "--local", "--quiet"]
    if parameters:
        argv += ["--parameters", json.dumps(parameters)]
    seconds, result = timed(argv, env)
    if result.returncode != 0:
        raise SystemExit(f"run failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return seconds


def noop_step_rss_mib() -> float:
    """Peak RSS the fork server records for a step that does nothing.

    A forked step's peak RSS counts what it uses of the server's preloaded libraries; less
    this, it is the step's own. Asked of ``smlocal.containers.forkserver`` by its protocol.
    """
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "noop.py"
        script.write_text("")
        server = subprocess.Popen(
            [sys.executable, "-m", "smlocal.containers.forkserver"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        request = {
            "id": 1,
            "target": [str(script)],
            "mapping": {},
            "env": dict(os.environ),
            "cwd": tmp,
            "stdout": str(Path(tmp) / "stdout.log"),
            "stderr": str(Path(tmp) / "stderr.log"),
        }
        try:
            server.stdout.readline()  # {"ready": true}
            server.stdin.write((json.dumps(request) + "\n").encode())
            server.stdin.flush()
            for line in server.stdout:
                answer = json.loads(line)
                if "exit" in answer:
                    return (answer.get("max_rss_kib") or 0) / 1024
            return 0.0
        finally:
            server.stdin.close()
            server.wait()


def newest_execution(home: Path) -> str:
    with sqlite3.connect(home / "state.sqlite") as db:
        (arn,) = db.execute("SELECT arn FROM executions ORDER BY created DESC LIMIT 1").fetchone()
    return arn


def step_times(home: Path) -> dict:
    """Per step of the newest execution: (recorded s, process s, peak RSS MiB, launcher)."""
    with sqlite3.connect(home / "state.sqlite") as db:
        rows = db.execute(
            "SELECT name, started, ended, log_dir FROM steps WHERE execution_arn=?",
            (newest_execution(home),),
        ).fetchall()
    times = {}
    for name, started, ended, log_dir in rows:
        recorded = (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()
        timing = Path(log_dir) / "process.json" if log_dir else None
        record = json.loads(timing.read_text()) if timing and timing.exists() else {}
        times[name] = (
            recorded,
            record.get("seconds", 0.0),
            record.get("max_rss_mib") or 0.0,
            record.get("launcher"),
        )
    return times


def resample(source: Path, rows: int, dest: Path) -> Path:
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(source, header=None)
    picks = np.random.default_rng(0).integers(0, len(frame), size=rows)
    frame.iloc[picks].to_csv(dest, header=False, index=False)
    return dest


def print_steps(steps: dict, baseline_mib: float) -> None:
    print("    step                                      recorded  process  overhead  own peak MiB")
    for name, (recorded, process, rss, launcher) in sorted(steps.items(), key=lambda kv: -kv[1][1]):
        own = max(rss - baseline_mib, 0.0) if launcher == "fork server" else rss
        peak = f"{own:8.1f}" if rss else "       -"
        print(f"    {name:40s} {recorded:8.3f} {process:8.3f} {recorded - process:9.3f}  {peak}")


def paired(repeat: int, env: dict, home: Path) -> tuple[list[float], list[float], list[dict]]:
    """``repeat`` times: the SDK import, then a run; and each run's step times."""
    floors, walls, steps = [], [], []
    for _ in range(repeat):
        floors.append(sdk_import(env))
        walls.append(run_local(env))
        steps.append(step_times(home))
    return floors, walls, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default="250000,500000,1000000")
    parser.add_argument("--module", default=MODULE, help="the pipeline module to run")
    args = parser.parse_args()
    globals()["MODULE"] = args.module
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    baseline = noop_step_rss_mib()
    print(f"peak RSS of a forked step that does nothing: {baseline:.0f} MiB (the shared base)")

    with tempfile.TemporaryDirectory() as tmp:
        for launcher, setting in LAUNCHERS.items():
            home = Path(tmp) / setting
            env = environment(home, setting)
            run_local(env)  # first run: creates the state database, warms file caches
            floors, walls, runs = paired(args.repeat, env, home)
            floor, wall = statistics.median(floors), statistics.median(walls)
            print(f"\n{launcher}: {args.repeat} paired runs")
            print(f"  python -c 'import sagemaker': {floor:.2f} s (median)")
            print(
                f"  run-pipeline --local end to end: {wall:.2f} s (median; runs: "
                f"{', '.join(f'{w:.2f}' for w in walls)})"
            )
            print(f"  ratio to the SDK import: {wall / floor:.2f}")
            steps = runs[walls.index(wall)] if wall in walls else runs[-1]  # the median run's
            print_steps(steps, baseline)
            process_total = sum(p for _, p, _, _ in steps.values())
            print(f"  wall time minus the steps' process times: {wall - process_total:.2f} s")
            execution = newest_execution(home).rsplit("/", 1)[-1]
            picture = [sys.executable, "-m", "smlocal.cli_state", "--home", str(home)]
            seconds, result = timed(picture + ["picture", execution], env)
            drawn = "drawn" if result.returncode == 0 else "not drawn: " + result.stderr.strip()
            print(f"  the execution's picture, on request: {seconds:.2f} s ({drawn})")
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"  peak memory of any one process so far (CLI, server or step): {peak:.0f} MiB")

    sizes = [int(s) for s in args.sizes.split(",") if s]
    if sizes:
        print("\nscaling, fork server (rows: end to end s, steps' process s, per 100k rows)")
        with tempfile.TemporaryDirectory() as tmp:
            for rows in sizes:
                data = resample(DEFAULT_DATA, rows, Path(tmp) / f"abalone-{rows}.csv")
                env = environment(Path(tmp) / f"home-{rows}")
                seconds = run_local(env, {"InputDataUrl": str(data)})
                steps = step_times(Path(tmp) / f"home-{rows}")
                process = sum(p for _, p, _, _ in steps.values())
                own = max(max(r - baseline, 0.0) for _, _, r, _ in steps.values())
                print(
                    f"  {rows:>9,d}: {seconds:7.2f} {process:7.2f} {process / rows * 1e5:6.3f}   "
                    f"largest own step peak {own:.0f} MiB"
                )


if __name__ == "__main__":
    main()
