"""Paths and names from a request or definition never lead the local target outside a job's folder.

Every host path derived from a LocalPath, a channel's name, a job's name or an output URI is
resolved (``..``, links, expressions evaluated at start) and refused if it leaves the job's
container folder or the state folder -- as a ValidationException before anything runs, or, for a
value known only at start, as the step's ClientError.
"""

import json
import os

import pytest
from botocore.exceptions import ClientError

from tests.smlocal.builders import ROLE, definition, processing, run
from tests.smlocal.builders import put_script as put_step_script
from tests.smlocal.jobs.requests import BUCKET, processing_job, put_script, training_job, wait_for

UP = "../" * 20
RETRY_EVERYTHING = [
    {
        "ExceptionType": ["Step.SERVICE_FAULT", "SageMaker.JOB_INTERNAL_ERROR"],
        "IntervalSeconds": 0,
        "MaxAttempts": 3,
    }
]


def escaping(target) -> str:
    """A container path under /opt/ml that ``..`` turns into the host path ``target``."""
    return "/opt/ml/processing/" + UP + str(target).lstrip("/")


def refusal(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    return raised.value.response["Error"]["Message"]


def test_an_input_local_path_leading_out_of_opt_ml_is_refused(aws, tmp_path):
    script = put_script(aws.s3, "s.py", "print('ran')\n")
    request = processing_job("slip", script, inputs=[("in", script, escaping(tmp_path / "x"))])
    message = refusal(lambda: aws.sm.create_processing_job(**request))
    assert f"input 'in' LocalPath '{escaping(tmp_path / 'x')}' is outside /opt/ml" in message
    assert not (tmp_path / "x").exists()
    assert not (aws.home / "jobs" / "slip").exists()


def test_an_output_local_path_leading_out_of_opt_ml_is_refused(aws, tmp_path):
    (tmp_path / "secret.txt").write_text("host file")
    script = put_script(aws.s3, "s.py", "print('ran')\n")
    request = processing_job("up", script, outputs=["out"])
    request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["LocalPath"] = escaping(tmp_path)
    assert "is outside /opt/ml" in refusal(lambda: aws.sm.create_processing_job(**request))
    assert aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="up/").get("KeyCount") == 0


def test_an_output_folder_the_script_turned_into_a_link_is_not_uploaded(aws, tmp_path):
    """The script's link would lead the upload to a host folder: the job fails, nothing leaves."""
    (tmp_path / "secret.txt").write_text("host file")
    script = put_script(
        aws.s3,
        "link.py",
        f"""
        import os
        os.rmdir("/opt/ml/processing/out")
        os.symlink({str(tmp_path)!r}, "/opt/ml/processing/out")
        """,
    )
    aws.sm.create_processing_job(**processing_job("linked", script, outputs=["out"]))
    job = wait_for(
        lambda: aws.sm.describe_processing_job(ProcessingJobName="linked"), "ProcessingJobStatus"
    )
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(
        "ClientError: output 'out' LocalPath '/opt/ml/processing/out' leads outside the job's "
        "container folder"
    )
    assert aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="linked/").get("KeyCount") == 0


@pytest.mark.parametrize("name", ["../../../x", "a/b", "..", "."])
def test_a_channel_name_is_one_folder_by_sagemakers_pattern(aws, name):
    request = training_job(
        "channel",
        InputDataConfig=[
            {
                "ChannelName": name,
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/data"}
                },
            }
        ],
    )
    message = refusal(lambda: aws.sm.create_training_job(**request))
    assert message.startswith(f"ChannelName {name!r}")
    assert not (aws.home / "jobs" / "channel").exists()


def test_a_checkpoint_local_path_leading_out_is_refused(aws, tmp_path):
    request = training_job(
        "ckpt",
        CheckpointConfig={"S3Uri": f"s3://{BUCKET}/ckpt", "LocalPath": escaping(tmp_path / "c")},
    )
    assert "CheckpointConfig LocalPath" in refusal(lambda: aws.sm.create_training_job(**request))


@pytest.mark.parametrize("name", ["../../../escaped", "a/../../b"])
def test_a_job_name_is_refused_by_sagemakers_pattern_before_it_names_a_folder(aws, name):
    script = put_script(aws.s3, "s.py", "print('ran')\n")
    message = refusal(lambda: aws.sm.create_processing_job(**processing_job(name, script)))
    assert message.startswith(f"ProcessingJobName {name!r} does not match SageMaker's pattern")
    assert not (aws.home / "escaped").exists() and not (aws.home / "b").exists()


def test_an_output_uri_leading_out_of_the_object_store_is_refused_before_the_job_runs(aws):
    script = put_script(aws.s3, "s.py", "print('ran')\n")
    request = processing_job("dots", script, outputs=["out"])
    request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"][
        "S3Uri"
    ] = f"s3://{BUCKET}/a/../../x"
    message = refusal(lambda: aws.sm.create_processing_job(**request))
    assert message == f"output 'out' S3Uri: key escapes the object store: 's3://{BUCKET}/a/../../x'"


# The same rules, with values a pipeline's parameters give at start.
WRITE_MARKER = """
import sys
open(sys.argv[1], "w").write("the script ran")
"""


def parameterised(client, field: str, marker):
    """A processing step whose ``field`` (input/output LocalPath, output S3Uri) is a parameter."""
    script = put_step_script(client.backend.store, "marker.py", WRITE_MARKER)
    step = processing(
        "Step", script, outputs=["out"], arguments=[str(marker)], RetryPolicies=RETRY_EVERYTHING
    )
    arguments = step["Arguments"]
    if field == "input":
        arguments["ProcessingInputs"][0]["S3Input"]["LocalPath"] = {"Get": "Parameters.Value"}
    else:
        key = "LocalPath" if field == "output" else "S3Uri"
        arguments["ProcessingOutputConfig"]["Outputs"][0]["S3Output"][key] = {
            "Get": "Parameters.Value"
        }
    return definition(step, parameters=[{"Name": "Value", "Type": "String"}])


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("input", "/etc", "input 'code' LocalPath '/etc' is outside /opt/ml"),
        ("input", "ESCAPE", "is outside /opt/ml"),
        ("input", "/opt/ml/processing/in\0x", "holds a NUL byte"),
        ("output", "ESCAPE", "output 'out' LocalPath"),
        ("s3uri", "s3://test-bucket/a/../../../x", "output 'out' S3Uri: key escapes the object"),
        ("s3uri", "s3://test-bucket/a\0b", "a NUL byte cannot be part of a bucket or key"),
    ],
)
def test_a_parameter_given_at_start_is_checked_as_a_literal_is(
    client, tmp_path, field, value, reason
):
    """Refused as the step's ClientError before its script runs; no retry policy retries it."""
    marker = tmp_path / "ran"
    value = escaping(tmp_path / "escaped") if value == "ESCAPE" else value
    client.create_pipeline(
        PipelineName="P", PipelineDefinition=parameterised(client, field, marker), RoleArn=ROLE
    )
    arn = client.start_pipeline_execution(
        PipelineName="P", PipelineParameters=[{"Name": "Value", "Value": value}]
    )["PipelineExecutionArn"]
    client.backend.wait(arn, timeout=60)
    (step,) = client.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
        "PipelineExecutionSteps"
    ]
    assert step["StepStatus"] == "Failed"
    assert step["FailureReason"].startswith("ClientError: ") and reason in step["FailureReason"]
    assert step["AttemptCount"] == 1
    assert not marker.exists() and not (tmp_path / "escaped").exists()


def test_the_same_values_as_literals_are_refused_when_the_pipeline_is_created(client, tmp_path):
    script = put_step_script(client.backend.store, "marker.py", WRITE_MARKER)
    step = processing("Step", script, inputs=[("s3://test-bucket/x", escaping(tmp_path))])
    with pytest.raises(ClientError, match="input 'input-0' LocalPath .* is outside /opt/ml"):
        client.create_pipeline(PipelineName="P", PipelineDefinition=definition(step), RoleArn=ROLE)
    assert client.list_pipelines()["PipelineSummaries"] == []


@pytest.mark.parametrize("count", [0, -1, 101, "two"])
def test_instance_counts_are_checked_against_sagemakers_range(client, count):
    script = put_step_script(client.backend.store, "marker.py", WRITE_MARKER)
    step = processing("Step", script)
    step["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = count
    expected = {
        0: "InstanceCount is 0; SageMaker's minimum is 1",
        -1: "InstanceCount is -1; SageMaker's minimum is 1",
        101: "InstanceCount is 101; SageMaker's maximum is 100",
        "two": "InstanceCount must be an integer, got 'two'",
    }[count]
    with pytest.raises(ClientError, match=expected):
        client.create_pipeline(PipelineName="P", PipelineDefinition=definition(step), RoleArn=ROLE)


def test_an_instance_count_parameter_is_checked_at_start(client, tmp_path):
    script = put_step_script(client.backend.store, "marker.py", WRITE_MARKER)
    step = processing("Step", script, arguments=[str(tmp_path / "ran")])
    step["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = {
        "Get": "Parameters.Count"
    }
    pipeline = definition(
        step, parameters=[{"Name": "Count", "Type": "Integer", "DefaultValue": 1}]
    )
    _, status, steps = run(client, pipeline, parameters={"Count": -1})
    assert status["PipelineExecutionStatus"] == "Failed"
    assert steps["Step"]["FailureReason"] == (
        "ClientError: ProcessingResources.ClusterConfig.InstanceCount is -1; "
        "SageMaker's minimum is 1"
    )
    assert not (tmp_path / "ran").exists()


def test_a_training_instance_count_of_zero_is_refused(aws):
    request = training_job("zero")
    request["ResourceConfig"]["InstanceCount"] = 0
    message = refusal(lambda: aws.sm.create_training_job(**request))
    assert message == "ResourceConfig.InstanceCount is 0; it must be at least 1"


def test_ordinary_paths_still_run(aws):
    """The checks let through what SageMaker runs: a processing job reads and writes /opt/ml."""
    script = put_script(
        aws.s3,
        "ok.py",
        """
        import json
        json.dump({"ok": True}, open("/opt/ml/processing/out/ok.json", "w"))
        """,
    )
    aws.sm.create_processing_job(**processing_job("ok", script, outputs=["out"]))
    job = wait_for(
        lambda: aws.sm.describe_processing_job(ProcessingJobName="ok"), "ProcessingJobStatus"
    )
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    body = aws.s3.get_object(Bucket=BUCKET, Key="ok/out/ok.json")["Body"].read()
    assert json.loads(body) == {"ok": True}
    assert os.path.isdir(aws.home / "jobs" / "ok" / "container" / "opt" / "ml" / "processing")
