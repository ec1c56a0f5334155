"""A fork server that dies under a running step: a local fault, never a silent second run.

The step's process is ended with the server, the step fails as ``Step.SERVICE_FAULT`` (which
a RetryPolicy may retry, in a new attempt with a new server), and the process record says so.
"""

import json
import os
import signal
import threading
import time

import pytest

from smlocal.jobs import process
from tests.smlocal.builders import definition, processing, put_script, run

STARTS_THEN_SLEEPS = """
import os, sys, time
home = sys.argv[1]
with open(os.path.join(home, "runs.txt"), "a") as f:  # one line per run of the script
    f.write(f"{os.getpid()}\\n")
if sum(1 for _ in open(os.path.join(home, "runs.txt"))) == 1:
    time.sleep(60)  # the first run is still here when the server is killed
"""
RETRY_LOCAL_FAULTS = [
    {"ExceptionType": ["Step.SERVICE_FAULT"], "IntervalSeconds": 0, "MaxAttempts": 1}
]


@pytest.fixture
def forked(monkeypatch):
    monkeypatch.setenv("PIPELINES_LOCAL_FORKSERVER", "1")


def kill_the_server_once_the_script_runs(home):
    runs = home / "runs.txt"
    deadline = time.monotonic() + 60
    # the line is written after the file is made: wait for it, whole
    while not (runs.exists() and runs.read_text().endswith("\n")) and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(runs.read_text().split()[0])
    os.kill(process.fork_server().proc.pid, signal.SIGKILL)
    return pid


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for nobody is not running
        return open(f"/proc/{pid}/stat").read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_dead_server_fails_the_step_as_a_local_fault_and_the_retry_runs_once_more(client, forked):
    home = client.backend.home
    script = put_script(client.backend.store, "sleeper.py", STARTS_THEN_SLEEPS)
    step = processing("Sleeper", script, arguments=[str(home)], RetryPolicies=RETRY_LOCAL_FAULTS)
    killed = {}
    killer = threading.Thread(
        target=lambda: killed.update(pid=kill_the_server_once_the_script_runs(home))
    )
    killer.start()
    arn, status, steps = run(client, definition(step))
    killer.join()

    assert status["PipelineExecutionStatus"] == "Succeeded", steps
    assert steps["Sleeper"]["AttemptCount"] == 2
    assert len((home / "runs.txt").read_text().split()) == 2  # two attempts, no third run
    assert not alive(killed["pid"])  # the first attempt's process died with its server
    first = home / "executions" / arn.rsplit("/", 1)[-1] / "Sleeper"
    record = json.loads((first / "logs" / "process.json").read_text())
    assert record["exit_code"] is None
    assert record["fault"].startswith(
        "InternalError: the local target's fork server ended while the job's process ran"
    )
    retried = json.loads((first / "attempt-2" / "logs" / "process.json").read_text())
    assert (retried["launcher"], retried["exit_code"]) == ("fork server", 0)  # a new server


def test_closing_a_server_still_importing_kills_it_at_once_a_ready_one_exits_by_itself():
    """A run refused before any step does not wait for the step libraries' imports."""
    loading = process.ForkServer()
    started = time.monotonic()
    loading.close()
    assert time.monotonic() - started < 1.0  # not the 2 s it is given to end by itself
    assert loading.proc.returncode == -signal.SIGKILL and not loading.ready.is_set()

    ready = process.ForkServer()
    assert ready.ready.wait(120)
    ready.close()
    assert ready.proc.returncode == 0  # it read its closed input and ended by itself
