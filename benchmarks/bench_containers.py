"""Benchmark of the container layouts: prints figures, asserts nothing.

Measures on this machine, per job process (a trivial Python script that writes one file under
``/opt/ml``), the wall time the job runner spends on it:
- with Linux namespaces (the container's own ``/``, overlays, private ``/tmp``) and with the
  Python path map, each from the fork server and as a fresh interpreter;
- the namespace setup alone, as the process records it (``layout_ms`` in ``process.json``);
- with ``--pipeline``, ``run-pipeline -n pipelines.abalone.pipeline --local`` end to end under
  each mechanism, and its ratio to ``python -c "import sagemaker"`` (paired runs).

Usage: ``python benchmarks/bench_containers.py [--repeat 15] [--pipeline] [--pipeline-repeat 1]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = (
    "import os\nos.makedirs('/opt/ml/out', exist_ok=True)\nopen('/opt/ml/out/x', 'w').write('x')\n"
)
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def one_step(home: Path, index: int) -> tuple[float, dict]:
    """Wall seconds of one job process, and its process record."""
    from smlocal.jobs import process

    work = home / "jobs" / f"bench-{index}"
    (work / "container" / "opt" / "ml" / "code").mkdir(parents=True)
    (work / "container" / "opt" / "ml" / "code" / "step.py").write_text(SCRIPT)
    env = {"PIPELINES_LOCAL_HOME": str(home)}
    started = time.perf_counter()
    spec = process.spec_for(work, ["python3", "/opt/ml/code/step.py"], env, image=IMAGE)
    code = process.run_container(spec, work / "logs", threading.Event())
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit((work / "logs" / "stderr.log").read_text())
    return seconds, json.loads((work / "logs" / "process.json").read_text())


CONFIGURATIONS = [(m, how) for m in ("namespaces", "map") for how in ("fork server", "spawn")]


def per_step(repeat: int) -> dict:
    """Median and p90 milliseconds per (mechanism, launcher), runs interleaved (load drifts)."""
    from smlocal.jobs import process

    runs: dict = {configuration: [] for configuration in CONFIGURATIONS}
    with tempfile.TemporaryDirectory() as folder:
        for index in range(-1, repeat):  # -1: the image's environment and a warm server
            for mechanism, launcher in CONFIGURATIONS:
                os.environ["PIPELINES_LOCAL_CONTAINER"] = mechanism
                os.environ["PIPELINES_LOCAL_FORKSERVER"] = "1" if launcher == "fork server" else "0"
                home = Path(folder) / f"{mechanism}-{launcher}".replace(" ", "-")
                result = one_step(home, index)
                if index >= 0:
                    runs[(mechanism, launcher)].append(result)
    if process._server is not None:
        process._server.close()
    figures = {}
    for configuration, results in runs.items():
        wall = sorted(seconds * 1000 for seconds, _ in results)
        layout = [r["layout_ms"] for _, r in results if r.get("layout_ms") is not None]
        figures[configuration] = (
            statistics.median(wall),
            wall[int(0.9 * (len(wall) - 1))],
            statistics.median(layout) if layout else None,
        )
    return figures


def timed(argv: list[str], env: dict) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"{argv} failed:\n{result.stderr[-2000:]}")
    return time.perf_counter() - started


def pipeline(repeat: int) -> dict:
    """(median wall s, median ratio to importing the SDK) of a local run, per mechanism."""
    base = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true", "SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    base.pop("PIPELINES_LOCAL_FORKSERVER", None)
    results = {}
    for mechanism in ("namespaces", "map"):
        walls, ratios = [], []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as home:
                env = {**base, "PIPELINES_LOCAL_HOME": home, "PIPELINES_LOCAL_CONTAINER": mechanism}
                floor = timed([sys.executable, "-c", "import sagemaker"], env)
                wall = timed(
                    [
                        sys.executable,
                        "-m",
                        "pipelines.run_pipeline",
                        "-n",
                        "pipelines.abalone.pipeline",
                    ]
                    + ["--local"],
                    env,
                )
            walls.append(wall)
            ratios.append(wall / floor)
        results[mechanism] = (statistics.median(walls), statistics.median(ratios))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="job processes per configuration")
    parser.add_argument("--pipeline", action="store_true", help="also time the abalone pipeline")
    parser.add_argument("--pipeline-repeat", type=int, default=1)
    args = parser.parse_args()
    from smlocal.containers import namespace

    print(f"namespaces on this machine: {namespace.availability()}")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    figures = per_step(args.repeat)
    print("per job process (wall ms, as the job runner sees it):")
    print("    mechanism    launcher      median     p90   namespace setup (median)")
    for (mechanism, launcher), (median, p90, layout) in figures.items():
        setup = f"{layout:8.1f}" if layout is not None else "       -"
        print(f"    {mechanism:12s} {launcher:12s} {median:7.1f} {p90:7.1f}   {setup}")
    for launcher in ("fork server", "spawn"):
        extra = figures[("namespaces", launcher)][0] - figures[("map", launcher)][0]
        print(f"namespaces cost {extra:+.1f} ms per step over the map ({launcher})")
    if args.pipeline:
        for mechanism, (wall, ratio) in pipeline(args.pipeline_repeat).items():
            print(
                f"run-pipeline --local ({mechanism}): {wall:.2f} s, {ratio:.2f}x import sagemaker"
            )


if __name__ == "__main__":
    main()
