"""Lambda and Callback steps in pipelines: local functions, local queues, workers elsewhere.

A Lambda step runs the stored handler on its inputs and types its outputs; a Callback step
sends SageMaker's documented message to its queue and waits until the token is completed, by
a plain boto3 worker in another process or by hand with ``pipeline-callback``.
"""

import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

import smlocal
from smlocal.steps import callback
from tests.helpers import run_cli
from tests.smlocal.builders import ROLE, definition, run

ADD = """
def lambda_handler(event, context):
    if event.get("fail"):
        raise RuntimeError("cannot add " + str(event["a"]))
    return {"sum": event["a"] + event["b"], "label": "run " + event["run"], "ok": True, "ratio": 0.5}
"""
FOREIGN_ARN = "arn:aws:lambda:us-west-2:123456789012:function:add"  # any account and region
WORKER = """
import json, boto3
sqs, sm = boto3.client("sqs"), boto3.client("sagemaker")
url = sqs.get_queue_url(QueueName="approvals")["QueueUrl"]
message = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"][0]
body = json.loads(message["Body"])
sm.send_pipeline_execution_step_success(
    CallbackToken=body["token"],
    OutputParameters=[{"Name": "approved", "Value": "true"}, {"Name": "echo", "Value": message["Body"]}],
)
sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
"""


@pytest.fixture
def aws(local_home):
    with smlocal.local_target(home=local_home):
        yield boto3.client("lambda"), boto3.client("sqs")


def put_function(aws, name="add", code=ADD):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("add.py", textwrap.dedent(code))
    aws[0].create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="add.lambda_handler",
        Code={"ZipFile": buffer.getvalue()},
        Timeout=60,
    )


def lambda_step(arguments, outputs, arn=FOREIGN_ARN):
    return {
        "Name": "Add",
        "Type": "Lambda",
        "FunctionArn": arn,
        "Arguments": arguments,
        "OutputParameters": [{"OutputName": n, "OutputType": t} for n, t in outputs],
    }


def callback_step(url, outputs=(("approved", "Boolean"), ("echo", "String"))):
    return {
        "Name": "Approve",
        "Type": "Callback",
        "SqsQueueUrl": url,
        "Arguments": {"model": "s3://bucket/model.tar.gz", "rmse": {"Get": "Parameters.Rmse"}},
        "OutputParameters": [{"OutputName": n, "OutputType": t} for n, t in outputs],
    }


def fail_unless(name, condition):
    """A Condition step whose else branch fails with ``name``'s message."""
    return {
        "Name": name,
        "Type": "Condition",
        "Arguments": {
            "Conditions": [condition],
            "IfSteps": [],
            "ElseSteps": [
                {"Name": f"{name}Failed", "Type": "Fail", "Arguments": {"ErrorMessage": name}}
            ],
        },
    }


def steps_of(client, arn) -> dict:
    listed = client.list_pipeline_execution_steps(PipelineExecutionArn=arn)
    return {s["StepName"]: s for s in listed["PipelineExecutionSteps"]}


# Lambda steps
def test_a_lambda_step_runs_the_handler_on_its_inputs_and_types_its_outputs(client, aws):
    put_function(aws)
    arguments = {
        "a": {"Get": "Parameters.A"},
        "b": 2,
        "run": {"Get": "Execution.PipelineExecutionId"},
    }
    outputs = [("sum", "Integer"), ("label", "String"), ("ok", "Boolean"), ("ratio", "Float")]
    check = fail_unless(
        "SumIs42",
        {
            "Type": "Equals",
            "LeftValue": {"Get": "Steps.Add.OutputParameters['sum']"},
            "RightValue": 42,
        },
    )
    body = definition(
        lambda_step(arguments, outputs),
        check,
        parameters=[{"Name": "A", "Type": "Integer", "DefaultValue": 40}],
    )
    arn, status, steps = run(client, body)
    assert status["PipelineExecutionStatus"] == "Succeeded", status.get("FailureReason")
    assert steps["SumIs42"]["Metadata"]["Condition"]["Outcome"] == "True"
    assert steps["Add"]["Metadata"]["Lambda"] == {
        "Arn": FOREIGN_ARN,
        "OutputParameters": [
            {"Name": "sum", "Value": "42"},
            {"Name": "label", "Value": f"run {arn.rsplit('/', 1)[1]}"},
            {"Name": "ok", "Value": "true"},
            {"Name": "ratio", "Value": "0.5"},
        ],
    }


def test_a_handler_error_fails_the_step_with_it(client, aws):
    put_function(aws)
    body = definition(lambda_step({"a": 1, "b": 2, "run": "x", "fail": True}, [("sum", "Integer")]))
    _, status, steps = run(client, body)
    assert status["PipelineExecutionStatus"] == "Failed"
    assert (
        "the Lambda function add failed: RuntimeError: cannot add 1"
        in steps["Add"]["FailureReason"]
    )


def test_an_output_of_another_type_fails_the_step(client, aws):
    put_function(aws)
    body = definition(lambda_step({"a": 1, "b": 2, "run": "x"}, [("label", "Integer")]))
    _, status, steps = run(client, body)
    assert status["PipelineExecutionStatus"] == "Failed"
    assert "output parameter 'label' of the response of add is not a Integer: 'run x'" in (
        steps["Add"]["FailureReason"]
    )


def test_a_function_with_no_code_here_is_refused_before_the_run_and_runs_once_created(client, aws):
    body = definition(lambda_step({"a": 1, "b": 2, "run": "x"}, [("sum", "Integer")]))
    client.create_pipeline(PipelineName="P", PipelineDefinition=body, RoleArn=ROLE)
    with pytest.raises(ClientError) as refused:
        client.start_pipeline_execution(PipelineName="P")
    message = refused.value.response["Error"]["Message"]
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert message.startswith(
        f"step 'Add' invokes the Lambda function {FOREIGN_ARN}, which has no code on the local "
        "target: create it on the local target first"
    )
    assert (
        "Lambda(function_name='add'" in message and "create_function(FunctionName='add'" in message
    )
    assert client.list_pipeline_executions(PipelineName="P")["PipelineExecutionSummaries"] == []
    put_function(aws)
    _, status, _ = run(client, body)
    assert status["PipelineExecutionStatus"] == "Succeeded"


# Callback steps
def start(client, body, rmse="2.5"):
    client.create_pipeline(PipelineName="P", PipelineDefinition=body, RoleArn=ROLE)
    return client.start_pipeline_execution(
        PipelineName="P", PipelineParameters=[{"Name": "Rmse", "Value": rmse}]
    )["PipelineExecutionArn"]


def callback_pipeline(url):
    approved = fail_unless(
        "IsApproved",
        {
            "Type": "Equals",
            "LeftValue": {"Get": "Steps.Approve.OutputParameters['approved']"},
            "RightValue": True,
        },
    )
    return definition(
        callback_step(url),
        approved,
        parameters=[{"Name": "Rmse", "Type": "Float", "DefaultValue": 1.0}],
    )


def waiting_token(client, arn, timeout=30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        step = steps_of(client, arn).get("Approve")
        token = ((step or {}).get("Metadata") or {}).get("Callback", {}).get("CallbackToken")
        if token:
            assert step["StepStatus"] == "Executing"
            return token
        time.sleep(0.05)
    raise AssertionError("the callback step never showed its token")


def test_a_worker_in_another_process_completes_the_step_unchanged(
    client, aws, local_home, tmp_path
):
    url = aws[1].create_queue(QueueName="approvals")["QueueUrl"]
    arn = start(client, callback_pipeline(url))
    token = waiting_token(client, arn)
    assert steps_of(client, arn)["Approve"]["Metadata"]["Callback"]["SqsQueueUrl"] == url
    (tmp_path / "worker.py").write_text(textwrap.dedent(WORKER))
    env = {**os.environ, "PIPELINES_TARGET": "local", "PIPELINES_LOCAL_HOME": str(local_home)}
    worker = subprocess.run(
        [sys.executable, str(tmp_path / "worker.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr
    client.backend.wait(arn, timeout=60)
    status = client.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert status["PipelineExecutionStatus"] == "Succeeded", status.get("FailureReason")
    step = steps_of(client, arn)["Approve"]
    sent = {p["Name"]: p["Value"] for p in step["Metadata"]["Callback"]["OutputParameters"]}
    assert json.loads(sent["echo"]) == {  # SageMaker's documented message
        "token": token,
        "pipelineExecutionArn": arn,
        "arguments": {"model": "s3://bucket/model.tar.gz", "rmse": 2.5},
        "status": "Executing",
    }
    assert steps_of(client, arn)["IsApproved"]["Metadata"]["Condition"]["Outcome"] == "True"


def test_a_failure_fails_the_step_and_a_token_completes_once(client, aws):
    url = aws[1].create_queue(QueueName="approvals")["QueueUrl"]
    arn = start(client, callback_pipeline(url))
    token = waiting_token(client, arn)
    answer = client.send_pipeline_execution_step_failure(
        CallbackToken=token, FailureReason="rejected by QA"
    )
    assert answer["PipelineExecutionArn"] == arn
    client.backend.wait(arn, timeout=60)
    assert steps_of(client, arn)["Approve"]["FailureReason"] == "rejected by QA"
    with pytest.raises(ClientError, match="already in a terminal status") as twice:
        client.send_pipeline_execution_step_success(CallbackToken=token)
    assert twice.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as unknown:
        client.send_pipeline_execution_step_success(CallbackToken="0123456789")
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFound"


def test_the_cli_lists_and_completes_a_waiting_step_by_hand(client, aws):
    url = aws[1].create_queue(QueueName="approvals")["QueueUrl"]
    arn = start(client, callback_pipeline(url))
    token = waiting_token(client, arn)
    pending = run_cli(["pipelines.callback", "--local", "pending"])
    assert pending.returncode == 0, pending.stderr
    assert token in pending.stdout and "Approve" in pending.stdout and arn in pending.stdout
    received = run_cli(
        ["pipelines.callback", "--local", "--output-format", "json", "receive", "approvals"]
    )
    assert [m["token"] for m in json.loads(received.stdout)] == [token]
    done = run_cli(
        [
            "pipelines.callback",
            "--local",
            "success",
            token,
            "--output",
            "approved=true",
            "--output",
            "echo=by hand",
        ]
    )
    assert done.returncode == 0, done.stderr
    client.backend.wait(arn, timeout=60)
    assert (
        client.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Succeeded"
    )
    again = run_cli(["pipelines.callback", "--local", "failure", token])
    assert again.returncode == 1 and "already in a terminal status" in again.stderr


def test_stopping_sends_a_stopping_message_then_ends_the_step(client, aws, monkeypatch):
    monkeypatch.setattr(callback, "STOP_GRACE_SECONDS", 0.5)
    url = aws[1].create_queue(QueueName="approvals")["QueueUrl"]
    arn = start(client, callback_pipeline(url))
    waiting_token(client, arn)
    client.stop_pipeline_execution(PipelineExecutionArn=arn)
    client.backend.wait(arn, timeout=60)
    assert (
        client.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Stopped"
    )
    messages = aws[1].receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["status"] for m in messages] == ["Executing", "Stopping"]


def test_a_queue_that_does_not_exist_fails_the_step_saying_how_to_make_it(client, aws):
    body = callback_pipeline("https://sqs.us-east-1.amazonaws.com/123456789012/nowhere")
    _, status, steps = run(client, body, parameters={"Rmse": 1.0})
    assert status["PipelineExecutionStatus"] == "Failed"
    assert "does not exist on the local target" in steps["Approve"]["FailureReason"]
    assert "create_queue(QueueName='nowhere')" in steps["Approve"]["FailureReason"]
