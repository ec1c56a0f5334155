"""Faults of the machine, not of the pipeline: unusable state, full disks, lost processes.

Each is one line naming what and where; nothing is left running; the engine never dies in
its own error handler. The end-to-end forms (CLIs, kill -9, a real full filesystem) are in
tests/test_faults_cli.py.
"""

import errno
import os
import pathlib
import sqlite3
import subprocess
import sys
import time

import pytest

from smlocal import db, graph
from smlocal.errors import StateError
from smlocal.executions import ExecutionStore
from smlocal.steps import EXECUTORS
from tests.smlocal.builders import definition, processing, put_script, run

OK = "print('ran')\n"


def dead_pid() -> int:
    """The pid of a process that has ended (and been collected)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# the state file
@pytest.mark.parametrize(
    "make,what",
    [
        (lambda p: p.write_bytes(b"not sqlite at all\n" * 300), "not a usable SQLite database"),
        (lambda p: p.mkdir(), "is a folder, not an SQLite database"),
    ],
)
def test_an_unusable_state_file_is_one_line_naming_it_and_what_to_do(tmp_path, make, what):
    path = tmp_path / "state.sqlite"
    make(path)
    with pytest.raises(StateError) as caught:
        ExecutionStore(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and what in message and "move it away" in message
    assert "\n" not in message


def test_a_truncated_state_file_is_one_line(tmp_path):
    whole = tmp_path / "whole.sqlite"
    store = ExecutionStore(whole)
    for i in range(200):  # enough rows for several pages
        store.create_execution(f"arn:{i}", str(i), "P", [], "{}" * 50, None, None)
    cut = tmp_path / "state.sqlite"
    cut.write_bytes(whole.read_bytes()[: 3 * 4096])
    with pytest.raises(StateError, match="not a usable SQLite database") as caught:
        ExecutionStore(cut).executions("P")
    assert "\n" not in str(caught.value)


def test_disk_full_while_writing_is_reported_as_such(tmp_path):
    error = db.state_error(
        tmp_path / "state.sqlite", sqlite3.OperationalError("database or disk is full")
    )
    assert "the disk is full" in str(error) and "free some space" in str(error)
    assert db.state_error(tmp_path / "s", sqlite3.OperationalError("no such table: x")) is None


# processes that ended
def test_a_zombie_is_not_alive():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # ended, not yet collected: a zombie
    assert not db.pid_alive(proc.pid)
    proc.wait()
    assert not db.pid_alive(proc.pid) and db.pid_alive(os.getpid())


def test_an_execution_whose_process_died_ends_with_its_steps(tmp_path):
    store = ExecutionStore(tmp_path / "state.sqlite")
    store.create_execution("arn:e", "e", "P", [], "{}", None, None)
    store.step_started("arn:e", "Running", "Processing", None, None)
    store.step_started("arn:e", "Done", "Processing", None, None)
    store.step_finished("arn:e", "Done", "Succeeded")
    with store.db.transaction() as conn:  # as if another process ran it and was killed
        conn.execute("UPDATE executions SET pid=? WHERE arn='arn:e'", (dead_pid(),))
    record = store.execution("arn:e")
    assert record["status"] == "Failed" and "ended before it finished" in record["failure_reason"]
    steps = {s.name: s for s in ExecutionStore(tmp_path / "state.sqlite").steps("arn:e")}
    assert steps["Running"].status == "Failed"
    assert "ended before it finished" in steps["Running"].failure_reason
    assert steps["Done"].status == "Succeeded"
    with sqlite3.connect(tmp_path / "state.sqlite") as conn:  # recorded, not only shown
        recorded = dict(conn.execute("SELECT name, status FROM steps").fetchall())
    assert recorded == {"Running": "Failed", "Done": "Succeeded"}


def test_an_execution_that_died_while_stopping_reads_stopped(tmp_path):
    store = ExecutionStore(tmp_path / "state.sqlite")
    store.create_execution("arn:e", "e", "P", [], "{}", None, None)
    store.step_started("arn:e", "Running", "Processing", None, None)
    store.request_stop("arn:e")
    with store.db.transaction() as conn:
        conn.execute("UPDATE executions SET pid=? WHERE arn='arn:e'", (dead_pid(),))
    assert store.execution("arn:e")["status"] == "Stopped"
    assert [s.status for s in store.steps("arn:e")] == ["Stopped"]


# the engine's own faults
def test_a_full_disk_fails_the_step_in_one_line_naming_the_file(client, monkeypatch):
    def full(ctx):
        raise OSError(errno.ENOSPC, "No space left on device", "/state/s3/out.csv")

    monkeypatch.setattr(EXECUTORS["Processing"], "run", full)
    script = put_script(client.backend.store, "ok.py", OK)
    _, status, steps = run(client, definition(processing("Write", script)))
    reason = steps["Write"]["FailureReason"]
    assert (
        reason
        == "InternalError: the local target could not write: No space left on device: /state/s3/out.csv"
    )
    assert status["PipelineExecutionStatus"] == "Failed"
    assert status["FailureReason"] == f"Step Write failed: {reason}"


def test_the_engine_survives_when_its_error_log_cannot_be_written(client, monkeypatch):
    def broken(ctx):
        raise RuntimeError("boom")

    real_write_text = pathlib.Path.write_text

    def no_room_for_logs(self, *args, **kwargs):
        if self.name == "engine-error.log":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(EXECUTORS["Processing"], "run", broken)
    monkeypatch.setattr(pathlib.Path, "write_text", no_room_for_logs)
    script = put_script(client.backend.store, "ok.py", OK)
    _, status, steps = run(client, definition(processing("Write", script)), timeout=60)
    assert status["PipelineExecutionStatus"] == "Failed"
    assert steps["Write"]["StepStatus"] == "Failed"
    assert steps["Write"]["FailureReason"] == "InternalError: RuntimeError: boom"


def test_an_execution_whose_records_cannot_be_written_still_ends(client, monkeypatch):
    script = put_script(client.backend.store, "ok.py", OK)
    history = client.backend.history

    def disk_full(*args, **kwargs):
        raise StateError("state.sqlite: the state file cannot be written: the disk is full")

    monkeypatch.setattr(history, "step_finished", disk_full)
    monkeypatch.setattr(history, "finish_execution", disk_full)
    _, status, _ = run(client, definition(processing("Write", script)), timeout=60)
    assert status["PipelineExecutionStatus"] == "Failed"
    assert "the disk is full" in status["FailureReason"]


# pictures
def chain(length: int) -> dict:
    steps = [{"Name": "S0", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}]
    for i in range(1, length):
        steps.append(
            {
                "Name": f"S{i}",
                "Type": "Fail",
                "Arguments": {"ErrorMessage": "x"},
                "DependsOn": [f"S{i - 1}"],
            }
        )
    return {"Version": "2020-12-01", "Parameters": [], "Steps": steps}


def test_a_two_thousand_step_chain_is_not_drawn_but_says_so_at_once(tmp_path):
    dag = graph.build(chain(2000))
    started = time.monotonic()
    assert max(dag.ranks().values()) == 2000  # no RecursionError
    with pytest.raises(graph.TooLarge, match="2000 steps, more than the 300 a picture shows"):
        graph.render(dag, tmp_path / "chain.png")
    assert time.monotonic() - started < 5
    assert not (tmp_path / "chain.png").exists()
    assert "S1999" in graph.to_mermaid(dag)  # the text forms show any size


def test_a_deep_chain_under_the_step_limit_is_refused_by_its_depth(tmp_path):
    with pytest.raises(graph.TooLarge, match="layers deep, more than the 100"):
        graph.render(graph.build(chain(150)), tmp_path / "chain.png")
