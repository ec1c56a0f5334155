"""Shared test helpers: paths of the real data and a way to run the CLIs in a child process."""

import importlib.resources
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
# The real data set, as the local target ships it (the tests need no other copy).
ABALONE_CSV = Path(str(importlib.resources.files("smlocal") / "data" / "abalone-dataset.csv"))
ABALONE_SHA256 = "de37cdcdcaaa50c309d514f248f7c2302a5f1f88c168905eba23fe2fbc78449f"
ABALONE_SOURCE = (
    "the UCI Machine Learning Repository's Abalone data set, https://doi.org/10.24432/C55C7W "
    "(file abalone.data, unchanged; see local-target/smlocal/data/README.md)"
)
NO_NETWORK_DIR = Path(__file__).resolve().parent / "no_network"


def missing_data_message() -> str:
    """Why the tests cannot run without the data set, and where to get it (or more data)."""
    return (
        f"the tests need the abalone data set at {ABALONE_CSV}, shipped with the local target: "
        f"reinstall it (pip install ./local-target, or tox), or get it from {ABALONE_SOURCE} "
        f"(sha256 {ABALONE_SHA256}). Larger inputs for benchmarks are resampled from it "
        "(benchmarks/bench_local_run.py --sizes)."
    )


def run_cli(args, env=None, cwd=None, no_network=False, timeout=300, fresh=False):
    """Run a console script's module as ``python -m``; returns CompletedProcess (text).

    The run is a process forked from a warm launcher (``tests.warm_cli``) that starts as a fresh
    interpreter would; ``fresh=True`` (or ``PYTEST_FRESH_INTERPRETERS=1``) runs a new interpreter.
    """
    from tests import warm_cli

    child_env = dict(os.environ)
    child_env.update(env or {})
    if no_network:
        # sitecustomize in this folder makes any non-loopback connection attempt fail loudly
        child_env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(NO_NETWORK_DIR), child_env.get("PYTHONPATH")])
        )
    launcher = None if fresh else warm_cli.launcher(ROOT)
    if launcher is not None and launcher.accepts(child_env):
        return launcher.run(list(args), child_env, cwd or ROOT, timeout)
    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        env=child_env,
        cwd=cwd or ROOT,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def definition_steps(definition: dict) -> dict:
    """Every step of a definition by name, condition branches included (marked with "Branch")."""
    steps = {}
    for step in definition["Steps"]:
        steps[step["Name"]] = step
        for branch in ("IfSteps", "ElseSteps"):
            for inner in step["Arguments"].get(branch, []):
                steps[inner["Name"]] = {**inner, "Branch": branch}
    return steps


def run_in_container(ml_root, *target, cwd=None):
    """Run a script (or ``-m module``) as a step's process does: ``/opt/ml`` mapped to ``ml_root``."""
    import json

    return subprocess.run(
        [
            sys.executable,
            "-m",
            "smlocal.containers.launch",
            json.dumps({"/opt/ml": str(ml_root)}),
            *target,
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


class LocalSageMaker:
    """A boto3 SageMaker client answered by the local target on ``home``, backend at hand.

    Calls go through boto3 and the boundary as a user's would (the target on for each call);
    ``backend`` lets a test look at the state behind them (object store, state folder).
    """

    def __init__(self, home, region: str = "us-east-1"):
        import boto3

        import smlocal
        from smlocal import services

        self.home = home
        with smlocal.local_target(home=home):
            self.api = boto3.client("sagemaker", region_name=region)
            self.backend = services.get("sagemaker", region).backend

    def __getattr__(self, name):
        import smlocal

        method = getattr(self.api, name)
        if not callable(method):
            return method

        def call(*args, **kwargs):
            with smlocal.local_target(home=self.home):
                return method(*args, **kwargs)

        return call


def start_slow_run(home):
    """``run-pipeline --local`` of the slow fixture, once its step runs: (CLI, step pid, child pid).

    The step writes its pid file in the state folder (which its container sees), then starts a
    child that writes ``sleeper.pid.child``.
    """
    pid_file = home / "sleeper.pid"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.run_pipeline",
            "-n",
            "tests.fixtures.slow_pipeline",
            "--local",
            "--kwargs",
            json.dumps({"pid_file": str(pid_file)}),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    deadline = time.time() + 120
    while not pid_file.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert pid_file.exists(), proc.communicate()
    time.sleep(0.2)
    step, child = int(pid_file.read_text()), int((home / "sleeper.pid.child").read_text())
    return proc, step, child
