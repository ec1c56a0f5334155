"""Live progress: a line per state change and a final table, on a terminal only."""

import io
import os
import pty
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from pipelines.progress import Progress, step_types
from tests.helpers import ROOT

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_lines_only_for_changes_and_a_table():
    out = io.StringIO()
    progress = Progress({"Prep": "Processing", "Check": "Condition"}, out)
    progress.update([{"StepName": "Prep", "StepStatus": "Executing", "StartTime": T0}])
    progress.update([{"StepName": "Prep", "StepStatus": "Executing", "StartTime": T0}])
    done = [
        {
            "StepName": "Prep",
            "StepStatus": "Succeeded",
            "StartTime": T0,
            "EndTime": T0 + timedelta(seconds=1.5),
        },
        {
            "StepName": "Check",
            "StepStatus": "Failed",
            "StartTime": T0 + timedelta(seconds=2),
            "EndTime": T0 + timedelta(seconds=2),
            "FailureReason": "bad\nmore",
            "CacheHitResult": {"x": 1},
        },
    ]
    progress.update(done)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("Prep                                     Executing")
    assert lines[1].endswith("Succeeded (1.50 s)")
    assert lines[2].endswith("Failed (0.00 s) (cache hit): bad")
    table = progress.table(done).splitlines()
    assert table[0].split() == ["step", "type", "status", "duration", "cache", "hit"]
    assert table[2].split() == ["Prep", "Processing", "Succeeded", "1.50", "s", "no"]
    assert table[3].split() == ["Check", "Condition", "Failed", "0.00", "s", "yes"]


def test_step_types_include_branches():
    definition = {
        "Steps": [
            {
                "Name": "C",
                "Type": "Condition",
                "Arguments": {
                    "IfSteps": [{"Name": "R", "Type": "RegisterModel"}],
                    "ElseSteps": [{"Name": "F", "Type": "Fail"}],
                },
            }
        ]
    }
    assert step_types(definition) == {"C": "Condition", "R": "RegisterModel", "F": "Fail"}


def _run_in_terminal(*args):
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.run_pipeline", *args],
        stdout=slave,
        stderr=slave,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env=dict(os.environ),
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode(errors="replace")


def test_progress_on_a_terminal_and_quiet_flag(local_home):
    code, output = _run_in_terminal("-n", "pipelines.abalone.pipeline", "--local")
    assert code == 0, output[-2000:]
    assert "] PreprocessAbaloneData" in output and "Succeeded (" in output
    assert (
        "step                                type           status     duration  cache hit"
        in output
    )
    assert "A picture of this execution: pipelines-local picture " in output
    # a one-step pipeline (a Fail step): the outcome alone, on a terminal too
    code, quiet = _run_in_terminal("-n", "tests.fixtures.parameters_pipeline", "--local", "--quiet")
    assert code == 1
    assert quiet.strip().splitlines() == [
        "Execution status: Failed",
        "Execution failed at step Report: 1 6.0 false PendingManualApproval",
    ]
