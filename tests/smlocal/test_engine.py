"""Executions of hand-written definitions through the local client, as the SDK would drive them."""

import json
import time

import pytest
from botocore.exceptions import ClientError

from smlocal import db

from tests.smlocal.builders import ROLE, definition, output_of, processing, put_script, run

WRITE = """
import os, sys, time
os.makedirs("/opt/ml/processing/out", exist_ok=True)
with open("/opt/ml/processing/out/data.txt", "w") as f:
    f.write(sys.argv[1] if len(sys.argv) > 1 else "data")
"""
READ = """
import json, os
text = open("/opt/ml/processing/in/data.txt").read()
os.makedirs("/opt/ml/processing/report", exist_ok=True)
json.dump({"metrics": {"score": float(len(text))}, "text": text}, open("/opt/ml/processing/report/report.json", "w"))
"""


@pytest.fixture(params=["fork server", "spawn"])
def launcher(request, monkeypatch):
    """Step processes forked from the warm server, or started as fresh interpreters."""
    monkeypatch.setenv("PIPELINES_LOCAL_FORKSERVER", "1" if request.param == "fork server" else "0")
    return request.param


def process_record(client, arn, step):
    execution_id = arn.rsplit("/", 1)[-1]
    return json.loads(
        (
            client.backend.home / "executions" / execution_id / step / "logs" / "process.json"
        ).read_text()
    )


def conditional_pipeline(client):
    store = client.backend.store
    write = put_script(store, "write.py", WRITE)
    read = put_script(store, "read.py", READ)
    report_file = {
        "PropertyFile": {"Get": "Steps.Read.PropertyFiles.Report"},
        "Path": "metrics.score",
    }
    return definition(
        processing("Write", write, outputs=["out"], arguments=[{"Get": "Parameters.Text"}]),
        processing(
            "Read",
            read,
            inputs=[(output_of("Write", "out"), "/opt/ml/processing/in")],
            outputs=["report"],
            PropertyFiles=[
                {"PropertyFileName": "Report", "OutputName": "report", "FilePath": "report.json"}
            ],
        ),
        {
            "Name": "Check",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [
                    {
                        "Type": "LessThanOrEqualTo",
                        "LeftValue": {"Std:JsonGet": report_file},
                        "RightValue": {"Get": "Parameters.Limit"},
                    }
                ],
                "IfSteps": [],
                "ElseSteps": [
                    {
                        "Name": "TooLong",
                        "Type": "Fail",
                        "Arguments": {
                            "ErrorMessage": {
                                "Std:Join": {
                                    "On": " ",
                                    "Values": [
                                        "score",
                                        {"Std:JsonGet": report_file},
                                        "above",
                                        {"Get": "Parameters.Limit"},
                                    ],
                                }
                            }
                        },
                    }
                ],
            },
        },
        parameters=[
            {"Name": "Text", "Type": "String", "DefaultValue": "hello"},
            {"Name": "Limit", "Type": "Float", "DefaultValue": 10.0},
        ],
    )


def test_data_flows_through_properties_and_property_files(client):
    arn, status, steps = run(client, conditional_pipeline(client))
    assert status["PipelineExecutionStatus"] == "Succeeded", steps
    assert [steps[n]["StepStatus"] for n in ("Write", "Read", "Check")] == ["Succeeded"] * 3
    assert steps["Check"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    assert "TooLong" not in steps  # the branch not taken is not listed, as on SageMaker
    execution_id = arn.rsplit("/", 1)[-1]
    report = client.backend.store.get_bytes(
        f"s3://test-bucket/P/{execution_id}/Read/output/report/report.json"
    )
    assert json.loads(report) == {"metrics": {"score": 5.0}, "text": "hello"}


def test_parameter_override_takes_the_else_branch_to_a_fail_step(client):
    arn, status, steps = run(
        client,
        conditional_pipeline(client),
        parameters={"Text": "a much longer text", "Limit": 3.5},
    )
    assert status["PipelineExecutionStatus"] == "Failed"
    assert steps["Check"]["Metadata"]["Condition"]["Outcome"] == "False"
    assert steps["TooLong"]["StepStatus"] == "Failed"
    assert steps["TooLong"]["FailureReason"] == "score 18.0 above 3.5"
    assert steps["TooLong"]["Metadata"] == {"Fail": {"ErrorMessage": "score 18.0 above 3.5"}}
    assert "TooLong" in status["FailureReason"]


def test_a_bad_override_is_refused_before_anything_runs(client):
    client.create_pipeline(
        PipelineName="P", PipelineDefinition=conditional_pipeline(client), RoleArn=ROLE
    )
    with pytest.raises(ClientError, match="parameter 'Limit' is Float"):
        client.start_pipeline_execution(
            PipelineName="P", PipelineParameters=[{"Name": "Limit", "Value": "high"}]
        )
    assert client.list_pipeline_executions(PipelineName="P")["PipelineExecutionSummaries"] == []


def test_a_failing_script_fails_its_step_runs_nothing_downstream_and_keeps_artifacts(
    client, launcher
):
    store = client.backend.store
    write = put_script(store, "write.py", WRITE)
    crash = put_script(
        store,
        "crash.py",
        "import sys\nprint('about to fail', file=sys.stderr)\nraise SystemExit('bad input: column 3')\n",
    )
    read = put_script(store, "read.py", READ)
    arn, status, steps = run(
        client,
        definition(
            processing("Write", write, outputs=["out"]),
            processing(
                "Crash", crash, inputs=[(output_of("Write", "out"), "/opt/ml/processing/in")]
            ),
            processing("After", read, DependsOn=["Crash"]),
        ),
    )
    assert status["PipelineExecutionStatus"] == "Failed"
    assert steps["Crash"]["StepStatus"] == "Failed"
    assert "bad input: column 3" in steps["Crash"]["FailureReason"]
    assert "After" not in steps
    execution_id = arn.rsplit("/", 1)[-1]
    assert (
        store.get_bytes(f"s3://test-bucket/P/{execution_id}/Write/output/out/data.txt") == b"data"
    )
    assert "Crash" in status["FailureReason"]
    assert process_record(client, arn, "Crash")["launcher"] == launcher
    assert process_record(client, arn, "Crash")["exit_code"] == 1


def test_independent_steps_run_concurrently_in_separate_folders(client, launcher):
    store = client.backend.store
    script = put_script(
        store,
        "probe.py",
        """
        import json, os, sys, time
        name = sys.argv[1]
        os.makedirs("/opt/ml/processing/out", exist_ok=True)
        open(f"/opt/ml/processing/out/{name}.txt", "w").write(name)
        start = time.time(); time.sleep(1.0)
        seen = sorted(os.listdir("/opt/ml/processing/out"))
        json.dump({"start": start, "end": time.time(), "seen": seen}, open("/opt/ml/processing/out/probe.json", "w"))
    """,
    )
    arn, status, steps = run(
        client,
        definition(
            processing("Left", script, outputs=["out"], arguments=["left"]),
            processing("Right", script, outputs=["out"], arguments=["right"]),
        ),
    )
    assert status["PipelineExecutionStatus"] == "Succeeded"
    execution_id = arn.rsplit("/", 1)[-1]
    probes = {
        n: json.loads(
            store.get_bytes(f"s3://test-bucket/P/{execution_id}/{n}/output/out/probe.json")
        )
        for n in ("Left", "Right")
    }
    assert probes["Left"]["seen"] == ["left.txt"] and probes["Right"]["seen"] == ["right.txt"]
    assert (
        probes["Left"]["start"] < probes["Right"]["end"]
        and probes["Right"]["start"] < probes["Left"]["end"]
    )


def test_cache_config_reuses_a_previous_run(client):
    store = client.backend.store
    write = put_script(store, "write.py", WRITE)
    cached = processing(
        "Write", write, outputs=["out"], CacheConfig={"Enabled": True, "ExpireAfter": "PT1H"}
    )
    first_arn, first, _ = run(client, definition(cached))
    second_arn, second, steps = run(client, definition(cached))
    assert second["PipelineExecutionStatus"] == "Succeeded"
    assert steps["Write"]["CacheHitResult"] == {"SourcePipelineExecutionArn": first_arn}
    assert not (
        client.backend.home / "executions" / second_arn.rsplit("/", 1)[-1] / "Write"
    ).exists()
    changed = processing(
        "Write",
        write,
        outputs=["out"],
        arguments=["other"],
        CacheConfig={"Enabled": True, "ExpireAfter": "PT1H"},
    )
    _, _, steps = run(client, definition(changed))
    assert "CacheHitResult" not in steps["Write"]


def test_stop_ends_the_running_process_and_marks_stopped(client, launcher):
    store = client.backend.store
    pid_file = client.backend.home / "sleeper.pid"
    sleeper = put_script(
        store,
        "sleep.py",
        f"""
        import os, time
        open({str(pid_file) + ".tmp"!r}, "w").write(str(os.getpid()))
        os.rename({str(pid_file) + ".tmp"!r}, {str(pid_file)!r})  # whole, or not there
        time.sleep(120)
    """,
    )
    write = put_script(store, "write.py", WRITE)
    client.create_pipeline(
        PipelineName="P",
        PipelineDefinition=definition(
            processing("Sleep", sleeper), processing("Later", write, DependsOn=["Sleep"])
        ),
        RoleArn=ROLE,
    )
    arn = client.start_pipeline_execution(PipelineName="P")["PipelineExecutionArn"]
    deadline = time.time() + 30
    while not pid_file.exists() and time.time() < deadline:
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    client.stop_pipeline_execution(PipelineExecutionArn=arn)
    client.backend.wait(arn, timeout=30)
    assert (
        client.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Stopped"
    )
    steps = client.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert [(s["StepName"], s["StepStatus"]) for s in steps] == [("Sleep", "Stopped")]
    # the script's process has ended (killed with its group; a zombie left for a PID 1 that
    # does not reap is ended too)
    deadline = time.time() + 10
    while db.pid_alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not db.pid_alive(pid)


def test_unsupported_step_types_are_refused_at_create(client):
    bad = definition({"Name": "Check", "Type": "ClarifyCheck", "Arguments": {}})
    with pytest.raises(ClientError, match="'Check' has type 'ClarifyCheck': a SageMaker Clarify"):
        client.create_pipeline(PipelineName="P", PipelineDefinition=bad, RoleArn=ROLE)


def test_missing_input_fails_with_the_uri(client):
    script = put_script(client.backend.store, "read.py", READ)
    _, status, steps = run(
        client,
        definition(
            processing("Read", script, inputs=[("s3://test-bucket/none/", "/opt/ml/processing/in")])
        ),
    )
    assert status["PipelineExecutionStatus"] == "Failed"
    assert "s3://test-bucket/none/" in steps["Read"]["FailureReason"]


KILLED_ONCE = """
import os, signal, sys
marker = sys.argv[1]
if not os.path.exists(marker):
    open(marker, "w").close()
    os.kill(os.getpid(), signal.SIGKILL)
os.makedirs("/opt/ml/processing/out", exist_ok=True)
open("/opt/ml/processing/out/done.txt", "w").write("second attempt")
"""
RETRY_INTERNAL = [
    {
        "ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"],
        "IntervalSeconds": 0,
        "BackoffRate": 1.0,
        "MaxAttempts": 2,
    }
]


def test_a_killed_job_is_retried_by_its_policy_and_attempts_are_counted(client, launcher):
    script = put_script(client.backend.store, "killed.py", KILLED_ONCE)
    step = processing(
        "Flaky",
        script,
        outputs=["out"],
        arguments=[str(client.backend.home / "marker")],  # seen by both attempts' containers
        RetryPolicies=RETRY_INTERNAL,
    )
    arn, status, steps = run(client, definition(step))
    assert status["PipelineExecutionStatus"] == "Succeeded", steps
    assert steps["Flaky"]["AttemptCount"] == 2
    execution = client.backend.home / "executions" / arn.rsplit("/", 1)[-1] / "Flaky"
    assert json.loads((execution / "logs" / "process.json").read_text())["exit_code"] == -9
    assert (
        json.loads((execution / "attempt-2" / "logs" / "process.json").read_text())["exit_code"]
        == 0
    )


def test_without_a_policy_a_killed_job_fails_with_the_signal(client):
    script = put_script(client.backend.store, "killed.py", KILLED_ONCE)
    _, status, steps = run(
        client, definition(processing("Flaky", script, arguments=[str(client.backend.home / "m")]))
    )
    assert status["PipelineExecutionStatus"] == "Failed"
    assert steps["Flaky"]["FailureReason"].startswith(
        "InternalServerError: the processing script process was killed by SIGKILL"
    )
    assert steps["Flaky"]["AttemptCount"] == 1


def test_a_scripts_own_error_is_not_retried(client):
    script = put_script(client.backend.store, "crash.py", "raise SystemExit(3)\n")
    policy = [
        {
            "ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR", "Step.SERVICE_FAULT"],
            "MaxAttempts": 5,
            "IntervalSeconds": 0,
        }
    ]
    _, status, steps = run(client, definition(processing("Crash", script, RetryPolicies=policy)))
    assert steps["Crash"]["StepStatus"] == "Failed" and steps["Crash"]["AttemptCount"] == 1


def test_unknown_retry_exception_types_are_refused(client):
    script = put_script(client.backend.store, "write.py", WRITE)
    bad = definition(
        processing("W", script, RetryPolicies=[{"ExceptionType": ["Step.OOPS"], "MaxAttempts": 1}])
    )
    with pytest.raises(ClientError, match="retry exception type 'Step.OOPS'"):
        client.create_pipeline(PipelineName="P", PipelineDefinition=bad, RoleArn=ROLE)


@pytest.mark.parametrize(
    "steps, message",
    [
        ([{"Name": 5, "Type": "Fail", "Arguments": {}}], "step Name must be a string, got 5"),
        (
            [{"Name": [1], "Type": "Fail", "Arguments": {}}],
            r"step Name must be a string, got \[1\]",
        ),
        (
            [{"Name": "A", "Type": "Fail", "Arguments": {}, "DependsOn": ["A"]}],
            "step 'A' depends on itself",
        ),
    ],
)
def test_malformed_definitions_are_a_validation_exception_and_nothing_is_stored(
    client, steps, message
):
    bad = json.dumps({"Version": "2020-12-01", "Steps": steps})
    with pytest.raises(ClientError, match=message) as raised:
        client.create_pipeline(PipelineName="P", PipelineDefinition=bad, RoleArn=ROLE)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert client.list_pipelines()["PipelineSummaries"] == []
    with pytest.raises(ClientError, match="a parameter must be a JSON object with a Name"):
        client.create_pipeline(
            PipelineName="P", PipelineDefinition=definition(parameters=["a"]), RoleArn=ROLE
        )
