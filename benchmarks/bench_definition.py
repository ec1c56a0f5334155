"""Benchmark of offline definitions: prints figures, asserts nothing.

- ``get-pipeline-definition -n pipelines.abalone.pipeline --local`` wall time, against
  ``python -c "import sagemaker"``;
- the definition's sha256 when generated from two different checkout folders (they must match).

Usage: ``python benchmarks/bench_definition.py [--repeat 5]``
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


def wall(argv, env, cwd=None) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, env=env, cwd=cwd)
    if result.returncode != 0:
        raise SystemExit(result.stderr.decode()[-2000:])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
            "PIPELINES_LOCAL_HOME": tmp,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        cli = [
            sys.executable,
            "-m",
            "pipelines.get_pipeline_definition",
            "-n",
            "pipelines.abalone.pipeline",
            "--local",
        ]
        sdk = statistics.median(
            wall([sys.executable, "-c", "import sagemaker"], env) for _ in range(args.repeat)
        )
        definition = statistics.median(wall(cli, env) for _ in range(args.repeat))
        print(
            f"python -c 'import sagemaker': {sdk:.2f} s; get-pipeline-definition --local: {definition:.2f} s "
            f"({definition / sdk:.2f}x; medians of {args.repeat})"
        )
        digests = []
        for name in ("checkout-a", "somewhere/else/checkout-b"):
            folder = Path(tmp) / name
            shutil.copytree(
                ROOT / "pipelines",
                folder / "pipelines",
                ignore=shutil.ignore_patterns("__pycache__"),
            )
            out = folder / "definition.json"
            wall(cli + ["-f", str(out)], {**env, "PYTHONPATH": str(folder)}, cwd=folder)
            digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
            print(f"sha256 of the definition from {folder}: {digests[-1]}")
        print("identical" if len(set(digests)) == 1 else "DIFFERENT")


if __name__ == "__main__":
    main()
