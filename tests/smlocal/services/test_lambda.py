"""Lambda on the local target: the SDK's ``Lambda`` helper and plain boto3, unchanged.

Each invocation runs the stored handler in a process of its own, in the function's code
folder, with Lambda's environment and the local target on for its own AWS calls.
"""

import base64
import io
import json
import textwrap
import zipfile

import boto3
import pytest

import smlocal

HANDLER = """
import os
import boto3

def lambda_handler(event, context):
    print("event", event)
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("sleep"):
        import time
        time.sleep(event["sleep"])
    buckets = boto3.client("s3").list_buckets()["Buckets"]
    return {
        "doubled": event.get("x", 0) * 2,
        "buckets": [b["Name"] for b in buckets],
        "function": context.function_name,
        "greeting": os.environ.get("GREETING"),
        "root": os.environ["LAMBDA_TASK_ROOT"] == os.getcwd(),
        "helper": __import__("helper").VALUE,
    }
"""


def zipped(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, textwrap.dedent(body))
    return buffer.getvalue()


@pytest.fixture
def aws(tmp_path):
    with smlocal.local_target(home=tmp_path):
        yield boto3.client("lambda"), boto3.client("s3")


def create(client, name="double", timeout=30, **extra):
    return client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/LambdaRole",
        Handler="handler.lambda_handler",
        Code={"ZipFile": zipped({"handler.py": HANDLER, "helper.py": "VALUE = 7\n"})},
        Timeout=timeout,
        **extra,
    )


def invoke(client, payload, **extra):
    response = client.invoke(FunctionName="double", Payload=json.dumps(payload), **extra)
    return response, json.loads(response["Payload"].read())


def test_a_function_runs_its_handler_in_its_own_process_with_the_target_on(aws):
    client, s3 = aws
    s3.create_bucket(Bucket="seen-by-the-handler")
    created = create(client, Environment={"Variables": {"GREETING": "hello"}})
    assert created["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:double"
    assert created["State"] == "Active" and created["Handler"] == "handler.lambda_handler"
    response, result = invoke(client, {"x": 21}, LogType="Tail")
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert result == {
        "doubled": 42,
        "buckets": ["seen-by-the-handler"],
        "function": "double",
        "greeting": "hello",
        "root": True,
        "helper": 7,
    }
    assert "event {'x': 21}" in base64.b64decode(response["LogResult"]).decode()


def test_a_handler_error_is_reported_as_lambda_reports_it(aws):
    client, _ = aws
    create(client)
    response, error = invoke(client, {"fail": True})
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "asked to fail"
    assert any("handler.py" in line for line in error["stackTrace"])


def test_a_handler_past_its_timeout_is_ended(aws):
    client, _ = aws
    create(client, timeout=1)
    response, error = invoke(client, {"sleep": 30})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]


def test_functions_are_found_by_name_or_arn_and_updated(aws):
    client, s3 = aws
    create(client)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:double"  # any account
    assert client.get_function(FunctionName=arn)["Configuration"]["FunctionName"] == "double"
    before = client.get_function_configuration(FunctionName="double")["CodeSha256"]
    s3.create_bucket(Bucket="code-bucket")
    new_code = zipped({"handler.py": "def lambda_handler(e, c):\n    return 'new'\n"})
    s3.put_object(Bucket="code-bucket", Key="lambda/code.zip", Body=new_code)
    updated = client.update_function_code(
        FunctionName="double", S3Bucket="code-bucket", S3Key="lambda/code.zip"
    )
    assert updated["CodeSha256"] != before
    assert invoke(client, {})[1] == "new"
    client.update_function_configuration(FunctionName="double", Timeout=9)
    assert client.get_function(FunctionName="double")["Configuration"]["Timeout"] == 9
    assert [f["FunctionName"] for f in client.list_functions()["Functions"]] == ["double"]
    client.delete_function(FunctionName="double")
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="function:double"):
        client.get_function(FunctionName="double")


def test_what_cannot_run_here_is_refused_by_name(aws):
    client, _ = aws
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="nodejs20.x"):
        client.create_function(
            FunctionName="js",
            Runtime="nodejs20.x",
            Role="arn:aws:iam::000000000000:role/R",
            Handler="index.handler",
            Code={"ZipFile": zipped({"index.js": "exports.handler = async () => 1;"})},
        )
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="PackageType Image"):
        client.create_function(
            FunctionName="image",
            Role="arn:aws:iam::000000000000:role/R",
            PackageType="Image",
            Code={"ImageUri": "123.dkr.ecr.us-east-1.amazonaws.com/fn:1"},
        )
    create(client)
    with pytest.raises(client.exceptions.ResourceConflictException, match="already exist"):
        create(client)
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="versions"):
        client.invoke(FunctionName="double", Qualifier="3")


def test_the_sdks_lambda_helper_creates_upserts_and_invokes(aws, tmp_path):
    import sagemaker
    from sagemaker.lambda_helper import Lambda

    script = tmp_path / "hello.py"
    script.write_text("def handler(event, context):\n    return {'hello': 'world'}\n")
    function = Lambda(
        function_name="hello",
        execution_role_arn=sagemaker.get_execution_role(),
        script=str(script),
        handler="hello.handler",
        session=sagemaker.session.Session(),
    )
    first = function.upsert()
    script.write_text("def handler(event, context):\n    return {'hello': 'again'}\n")
    second = function.upsert()  # exists: UpdateFunctionCode
    assert first["FunctionArn"] == second["FunctionArn"]
    assert first["CodeSha256"] != second["CodeSha256"]
    assert json.loads(function.invoke()["Payload"].read()) == {"hello": "again"}
    function.delete()
