"""Faults end to end, as a user meets them on the command line.

SIGTERM and ``kill -9`` of ``run-pipeline --local`` (no process of the run outlives it, the
next reader ends the execution and its steps), a full disk, an unusable or read-only state
folder, flag values that cannot be parsed, and ``kill -9`` at random moments of a run
(``FAULT_INJECTION_TRIALS``, default 3; ``benchmarks/fault_injection.py`` runs 20).

Filesystems are made in a user and mount namespace of the test's own (``unshare -r -m``),
so these tests mean the same as root and as an unprivileged user.
"""

import json
import os
import shlex
import signal
import subprocess
import sys
import time

import pytest

from benchmarks import fault_injection
from tests.helpers import ROOT, run_cli, start_slow_run

pytestmark = pytest.mark.heavy  # scheduled first (tests/conftest.py)

NAMESPACE = ["unshare", "--user", "--map-root-user", "--mount"]


def cli(module, *args, env=None):
    return run_cli([module, *args], env=env, no_network=True)


def in_namespace(setup: str, module: str, *args) -> subprocess.CompletedProcess:
    """Run a CLI after ``setup`` (shell, e.g. mounts) in a user and mount namespace of its own."""
    command = f"{setup} && exec {shlex.quote(sys.executable)} -m {module} " + shlex.join(args)
    return subprocess.run(
        [*NAMESPACE, "sh", "-c", command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ,
        timeout=600,
    )


def one_line_error(result, code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def read_back(home):
    """The execution and its steps as the next reader sees them (through the API)."""
    from tests.helpers import LocalSageMaker

    client = LocalSageMaker(home)
    (summary,) = client.list_pipeline_executions(PipelineName="SlowPipeline")[
        "PipelineExecutionSummaries"
    ]
    arn = summary["PipelineExecutionArn"]
    execution = client.describe_pipeline_execution(PipelineExecutionArn=arn)
    steps = client.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    return execution, steps


# signals
def test_sigterm_stops_the_execution_like_ctrl_c_then_exits_143(local_home):
    proc, step, child = start_slow_run(local_home)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Terminated: stopping the execution..." in err
    assert "Execution status: Stopped" in out
    assert err.strip().splitlines()[-1] == "Execution stopped."  # not "Execution failed."
    assert fault_injection.orphans_after(local_home) == []
    assert not fault_injection._alive(step) and not fault_injection._alive(child)


@pytest.mark.parametrize("launcher", ["fork server", "spawn"])
def test_kill_9_of_the_cli_ends_every_process_of_the_run_and_the_next_reader_ends_its_steps(
    local_home, monkeypatch, launcher
):
    monkeypatch.setenv("PIPELINES_LOCAL_FORKSERVER", "1" if launcher == "fork server" else "0")
    proc, step, child = start_slow_run(local_home)
    assert fault_injection.processes_of(local_home)  # the CLI, the step and its child at least
    proc.kill()
    proc.communicate(timeout=30)
    assert fault_injection.orphans_after(local_home, settle=5.0) == []
    execution, steps = read_back(local_home)
    assert execution["PipelineExecutionStatus"] == "Failed"
    assert "ended before it finished" in execution["FailureReason"]
    assert [(s["StepName"], s["StepStatus"]) for s in steps] == [("Sleep", "Failed")]
    assert "ended before it finished" in steps[0]["FailureReason"]


# disks and state
def test_a_full_disk_fails_the_run_in_one_line_naming_the_step_and_the_cause(local_home):
    home = local_home / "small"
    home.mkdir()
    setup = f"mount -t tmpfs -o size=2m tmpfs {shlex.quote(str(home))}"
    result = in_namespace(
        f"export PIPELINES_LOCAL_HOME={shlex.quote(str(home))} && {setup}",
        "pipelines.run_pipeline",
        "-n",
        "pipelines.abalone.pipeline",
        "--local",
        "-q",
    )
    line = one_line_error(result, 1)
    assert line.startswith("Execution failed: Step "), line
    assert "No space left on device" in line


@pytest.mark.parametrize(
    "make,what",
    [
        (lambda p: p.write_bytes(os.urandom(5000)), "is not a usable SQLite database"),
        (lambda p: p.mkdir(), "is a folder, not an SQLite database"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ("pipelines.model_registry", "--local", "list"),
        ("smlocal.cli_state", "list"),
        ("pipelines.run_pipeline", "-n", "tests.fixtures.parameters_pipeline", "--local"),
    ],
)
def test_an_unusable_state_file_is_one_line_for_every_cli(local_home, make, what, command):
    make(local_home / "state.sqlite")
    line = one_line_error(cli(*command), 1)
    assert f"{local_home / 'state.sqlite'}: the state file {what}" in line


def test_listing_works_on_a_read_only_state_folder(local_home):
    assert (
        cli(
            "pipelines.run_pipeline", "-n", "tests.fixtures.parameters_pipeline", "--local"
        ).returncode
        == 1
    )
    before = (local_home / "state.sqlite").read_bytes()
    home = shlex.quote(str(local_home))
    read_only = f"mount --bind {home} {home} && mount -o remount,ro,bind {home}"
    listed = in_namespace(read_only, "pipelines.model_registry", "--local", "list")
    assert listed.returncode == 0, listed.stderr
    state = in_namespace(read_only, "smlocal.cli_state", "--output", "json", "list")
    assert state.returncode == 0, state.stderr
    (execution,) = json.loads(state.stdout)["Executions"]
    assert execution["PipelineName"] == "ParametersPipeline"
    assert execution["PipelineExecutionStatus"] == "Failed"
    run = in_namespace(
        read_only, "pipelines.run_pipeline", "-n", "tests.fixtures.parameters_pipeline", "--local"
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "read-only" in run.stderr.strip().splitlines()[-1]
    assert (local_home / "state.sqlite").read_bytes() == before


# flags
def test_a_3000_level_parameters_value_is_a_usage_error(local_home):
    deep = "[" * 3000 + "]" * 3000
    result = cli(
        "pipelines.run_pipeline",
        "-n",
        "tests.fixtures.parameters_pipeline",
        "--local",
        "--parameters",
        deep,
    )
    line = one_line_error(result, 2)
    assert line == "run-pipeline: error: --parameters: the value nests more than 32 levels deep"


def test_an_empty_module_name_is_a_usage_error(local_home):
    line = one_line_error(cli("pipelines.run_pipeline", "-n", "", "--local"), 2)
    assert "--module-name: '' is not a module name" in line


# kill -9 at random moments
def test_kill_9_at_random_moments_leaves_no_orphan_and_a_consistent_state(local_home):
    count = int(os.environ.get("FAULT_INJECTION_TRIALS", "3"))
    figures = fault_injection.trials(count, seed=int(time.time()), home=local_home)
    assert figures.trials == count
    assert (figures.orphans, figures.inconsistent) == (0, 0), "\n".join(figures.lines())
    assert figures.fresh_run == "succeeded"
