"""Benchmark of offline definitions: prints figures, asserts nothing.

- ``get-pipeline-definition -n pipelines.abalone.pipeline --local`` wall time against
  ``python -c "import sagemaker"``, in paired runs (one of each, again and again: both see the
  same load), launched both ways a user does: the console script and ``python -m``;
- the definition's sha256 when generated from two different checkout folders (they must match).

Usage: ``python benchmarks/bench_definition.py [--repeat 7]``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["-n", "pipelines.abalone.pipeline", "--local"]


def wall(argv, env, cwd=None) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, env=env, cwd=cwd)
    if result.returncode != 0:
        raise SystemExit(result.stderr.decode()[-2000:])
    return time.perf_counter() - start


def launchers() -> dict[str, list[str]]:
    """``python -m`` always; the console script when this environment has it."""
    found = {"python -m": [sys.executable, "-m", "pipelines.get_pipeline_definition"]}
    script = Path(sys.executable).parent / "get-pipeline-definition"
    if script.exists():
        found["console script"] = [str(script)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
            "PIPELINES_LOCAL_HOME": tmp,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        for name, command in launchers().items():
            wall(command + ARGS, env)  # first run: object store and file caches warm
            sdk, cli = [], []
            for _ in range(args.repeat):
                sdk.append(wall([sys.executable, "-c", "import sagemaker"], env))
                cli.append(wall(command + ARGS, env))
            floor, median = statistics.median(sdk), statistics.median(cli)
            print(
                f"{name}: python -c 'import sagemaker' {floor:.2f} s; get-pipeline-definition "
                f"--local {median:.2f} s; ratio {median / floor:.2f} (medians of {args.repeat} "
                f"paired runs; runs: {', '.join(f'{c:.2f}' for c in cli)})"
            )
        cli = launchers()["python -m"]
        digests = []
        for name in ("checkout-a", "somewhere/else/checkout-b"):
            folder = Path(tmp) / name
            shutil.copytree(
                ROOT / "pipelines",
                folder / "pipelines",
                ignore=shutil.ignore_patterns("__pycache__"),
            )
            out = folder / "definition.json"
            wall(cli + ARGS + ["-f", str(out)], {**env, "PYTHONPATH": str(folder)}, cwd=folder)
            digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
            print(f"sha256 of the definition from {folder}: {digests[-1]}")
        print("identical" if len(set(digests)) == 1 else "DIFFERENT")


if __name__ == "__main__":
    main()
