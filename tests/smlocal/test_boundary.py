"""The boundary: while the local target is on, boto3 itself is answered locally.

No session of ours anywhere: plain boto3 clients and the SDK's own sessions, as users write.
"""

import os
import subprocess
import sys

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError

import smlocal
from tests.helpers import ROOT


def test_plain_clients_are_answered_locally(on_local_target):
    sm = boto3.client("sagemaker")  # no region, no credentials: the target's defaults
    assert sm.meta.region_name == "us-east-1"
    assert sm.list_pipelines()["PipelineSummaries"] == []
    with pytest.raises(sm.exceptions.ResourceNotFound, match="does not exist"):
        sm.describe_pipeline(PipelineName="Missing")


def test_botocore_still_validates_requests(on_local_target):
    with pytest.raises(ParamValidationError, match="PipelineName"):
        boto3.client("sagemaker").describe_pipeline()


def test_other_services_are_refused_by_name_without_a_request(on_local_target):
    with pytest.raises(ClientError) as err:
        boto3.client("stepfunctions").list_state_machines()
    assert err.value.response["Error"]["Code"] == "UnsupportedOperation"
    assert "stepfunctions:ListStateMachines" in str(err.value)
    with pytest.raises(ClientError, match="lambda:ListLayers"):  # a service served in part
        boto3.client("lambda").list_layers()


def test_identity_is_the_local_role(on_local_target):
    import sagemaker.session

    identity = boto3.client("sts").get_caller_identity()
    assert identity["Account"] == "000000000000"
    role = "arn:aws:iam::000000000000:role/LocalPipelineExecutionRole"
    assert sagemaker.session.get_execution_role() == role
    assert sagemaker.session.Session().default_bucket() == "sagemaker-us-east-1-000000000000"


def test_environment_is_put_back_after_the_block(local_home, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY")
    monkeypatch.setenv("AWS_PROFILE", "production")
    with smlocal.local_target(home=local_home):
        assert smlocal.enabled()
        assert os.environ["AWS_ACCESS_KEY_ID"] == "local"  # no real identity while on
        assert "AWS_PROFILE" not in os.environ
        assert os.environ["PIPELINES_TARGET"] == "local"  # children are on too
    assert not smlocal.enabled()
    assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREALKEY"
    assert os.environ["AWS_PROFILE"] == "production"
    assert "PIPELINES_TARGET" not in os.environ


def test_decorator_form(local_home):
    @smlocal.local_target(home=local_home)
    def account():
        return boto3.client("sts").get_caller_identity()["Account"]

    assert account() == "000000000000"
    assert not smlocal.enabled()


def test_clients_made_before_turning_it_on_are_served_too(local_home):
    sm = boto3.client("sagemaker", region_name="eu-west-1")  # made while off
    with smlocal.local_target(home=local_home):
        assert sm.list_pipelines()["PipelineSummaries"] == []


def test_sdk_telemetry_is_silenced(on_local_target):
    from sagemaker.telemetry import telemetry_logging

    assert telemetry_logging._requests_helper("https://example.invalid/", 2) is None
    assert telemetry_logging._requests_helper.__module__ == "smlocal.sdk"


def test_pipelines_target_turns_on_any_python_process(local_home, tmp_path, monkeypatch):
    """The environment variable alone: a plain script, no import of ours, the SDK's own idioms."""
    from tests.moto_server import MotoServer
    from tests.helpers import free_port

    script = tmp_path / "user_script.py"
    script.write_text(
        "import boto3, sagemaker\n"
        "s3 = boto3.resource('s3')\n"
        "s3.Bucket('my-bucket').put_object(Key='a/b.txt', Body=b'hello')\n"
        "print(sagemaker.session.get_execution_role())\n"
        "print(boto3.client('s3').get_object(Bucket='my-bucket', Key='a/b.txt')['Body'].read())\n"
    )
    with MotoServer(free_port()) as server:  # stands in for AWS: it must see nothing
        env = dict(
            os.environ,
            PIPELINES_TARGET="local",
            AWS_ENDPOINT_URL=server.url,
            AWS_ACCESS_KEY_ID="AKIAFAKE",
            AWS_SECRET_ACCESS_KEY="fake",
        )
        result = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=ROOT
        )
        requests = server.request_count()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == [
        "arn:aws:iam::000000000000:role/LocalPipelineExecutionRole",
        "b'hello'",
    ]
    assert (local_home / "s3" / "my-bucket" / "a" / "b.txt").read_bytes() == b"hello"
    assert requests == 0


def test_the_sdk_config_file_applies_as_on_sagemaker(on_local_target, tmp_path, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text(
        "SchemaVersion: '1.0'\n"
        "SageMaker:\n"
        "  PythonSDK:\n"
        "    Modules:\n"
        "      TelemetryOptOut: true\n"
        "      Session:\n"
        "        DefaultS3Bucket: team-bucket\n"
        "        DefaultS3ObjectKeyPrefix: team/prefix\n"
    )
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(config))
    import sagemaker.session

    session = sagemaker.session.Session()
    data = tmp_path / "rows.csv"
    data.write_text("1,2\n")
    uri = session.upload_data(str(data), key_prefix="data")
    assert uri == "s3://team-bucket/team/prefix/data/rows.csv"
    assert (
        on_local_target / "s3" / "team-bucket" / "team" / "prefix" / "data" / "rows.csv"
    ).exists()
