"""Benchmark of the local target: prints figures, asserts nothing.

Measures on this machine:
- ``python -c "import sagemaker"`` wall time (the floor of any SDK-based CLI);
- ``run-pipeline -n pipelines.abalone.pipeline --local`` end to end, and its ratio to the above;
- the engine's own overhead: each step's recorded time minus its process's time, and the run's
  wall time minus the steps' process times (the pipeline is a chain, so they add up);
- peak memory (max RSS of the CLI and of any one step process);
- the same pipeline on inputs resampled from the real data (250k, 500k, 1M rows) to show how
  cost grows with size.

Usage: ``python benchmarks/bench_local_run.py [--repeat 3] [--sizes 250000,500000,1000000]``
(the scaling inputs are resampled from ../shared/data/abalone-dataset.csv).
"""

from __future__ import annotations

import argparse
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

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "abalone-dataset.csv"


def timed(argv, env=None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, result


def sdk_import_seconds(repeat: int) -> float:
    env = {**os.environ, "SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    return statistics.median(
        timed([sys.executable, "-c", "import sagemaker"], env)[0] for _ in range(repeat)
    )


MODULE = "pipelines.abalone.pipeline"


def run_local(home: Path, parameters: dict | None = None) -> tuple[float, dict]:
    env = {**os.environ, "PIPELINES_LOCAL_HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true"}
    argv = [sys.executable, "-m", "pipelines.run_pipeline", "-n", MODULE, "--local"]
    if parameters:
        argv += ["--parameters", json.dumps(parameters)]
    seconds, result = timed(argv, env)
    if result.returncode != 0:
        raise SystemExit(f"run failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return seconds, step_times(home)


def step_times(home: Path) -> dict:
    """Per step of the newest execution: (recorded seconds, process seconds, max RSS MiB)."""
    with sqlite3.connect(home / "state.sqlite") as db:
        (arn,) = db.execute("SELECT arn FROM executions ORDER BY created DESC LIMIT 1").fetchone()
        rows = db.execute(
            "SELECT name, started, ended, log_dir FROM steps WHERE execution_arn=?", (arn,)
        ).fetchall()
    times = {}
    for name, started, ended, log_dir in rows:
        recorded = (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()
        timing = Path(log_dir) / "process.json"
        record = json.loads(timing.read_text()) if timing.exists() else {}
        times[name] = (recorded, record.get("seconds", 0.0), record.get("max_rss_mib") or 0.0)
    return times


def resample(source: Path, rows: int, dest: Path) -> Path:
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(source, header=None)
    picks = np.random.default_rng(0).integers(0, len(frame), size=rows)
    frame.iloc[picks].to_csv(dest, header=False, index=False)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="250000,500000,1000000")
    parser.add_argument("--module", default=MODULE, help="the pipeline module to run")
    args = parser.parse_args()
    globals()["MODULE"] = args.module

    floor = sdk_import_seconds(args.repeat)
    print(f"python -c 'import sagemaker': {floor:.2f} s (median of {args.repeat})")

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            runs.append(run_local(Path(tmp) / f"home-{i}"))
    walls = [wall for wall, _ in runs]
    wall = statistics.median(walls)
    print(
        f"run-pipeline --local end to end: {wall:.2f} s (median; runs: {', '.join(f'{w:.2f}' for w in walls)})"
    )
    print(f"ratio to the SDK import: {wall / floor:.2f}x")
    _, steps = runs[walls.index(wall)]
    process_total = sum(p for _, p, _ in steps.values())
    print("per step: recorded s / process s / engine overhead s / peak RSS MiB")
    for name, (recorded, process, rss) in sorted(steps.items(), key=lambda kv: -kv[1][1]):
        print(f"  {name:40s} {recorded:6.3f} {process:6.3f} {recorded - process:6.3f} {rss:7.1f}")
    overhead = statistics.mean(r - p for r, p, _ in steps.values())
    print(f"engine overhead per step (mean): {overhead:.3f} s")
    print(
        f"wall time minus the steps' process times: {wall - process_total:.2f} s "
        f"(CLI start, SDK import, definition, upsert)"
    )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"peak memory of any one process (CLI, fork server or step): {peak / 1024:.0f} MiB")

    sizes = [int(s) for s in args.sizes.split(",") if s]
    if sizes:
        print("scaling (rows: end to end s, steps' process s, process s per 100k rows)")
        with tempfile.TemporaryDirectory() as tmp:
            for rows in sizes:
                data = resample(DEFAULT_DATA, rows, Path(tmp) / f"abalone-{rows}.csv")
                seconds, steps = run_local(Path(tmp) / f"home-{rows}", {"InputDataUrl": str(data)})
                process = sum(p for _, p, _ in steps.values())
                rss = max(r for _, _, r in steps.values())
                print(
                    f"  {rows:>9,d}: {seconds:7.2f} {process:7.2f} {process / rows * 1e5:6.3f}   "
                    f"peak step RSS {rss:.0f} MiB"
                )
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"peak memory of any one process, with the largest input: {peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
