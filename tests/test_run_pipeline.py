"""run-pipeline against the SageMaker API, served by moto on 127.0.0.1."""

import json

import boto3
import pytest

from tests.helpers import run_cli
from tests.moto_server import FAIL_NEXT

pytestmark = pytest.mark.heavy  # scheduled first (tests/conftest.py)

ROLE = "arn:aws:iam::123456789012:role/PipelineRole"
BUCKET = "artifact-bucket"


@pytest.fixture
def aws(moto_server, tmp_path):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    return {"NO_NETWORK_LOG": str(tmp_path / "network.log"), "_log": tmp_path / "network.log"}


def run_pipeline(aws, *extra, kwargs=None):
    kwargs = kwargs or {
        "region": "us-east-1",
        "role": ROLE,
        "default_bucket": BUCKET,
        "pipeline_name": "ci-abalone",
    }
    env = {k: v for k, v in aws.items() if not k.startswith("_")}
    return run_cli(
        [
            "pipelines.run_pipeline",
            "-n",
            "pipelines.abalone.pipeline",
            "--role-arn",
            ROLE,
            "--kwargs",
            json.dumps(kwargs),
            *extra,
        ],
        env=env,
        no_network=True,
    )


def test_creates_starts_waits_and_lists_steps(aws):
    result = run_pipeline(aws, "--description", "first")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "###### Creating/updating the SageMaker Pipeline ci-abalone" in out
    assert "###### Created/Updated SageMaker Pipeline: Response received:" in out
    assert "###### Execution started with PipelineExecutionArn: arn:aws:sagemaker:us-east-1:" in out
    assert "Waiting for the execution to finish..." in out
    assert "#####Execution completed. Execution step details:" in out
    assert '"StepName": "PreprocessAbaloneData"' in out
    sm = boto3.client("sagemaker", region_name="us-east-1")
    described = sm.describe_pipeline(PipelineName="ci-abalone")
    assert described["PipelineDescription"] == "first"
    definition = json.loads(described["PipelineDefinition"])
    assert [s["Name"] for s in definition["Steps"]][0] == "PreprocessAbaloneData"
    code_keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert any(k.startswith("ci-abalone/code/") and k.endswith("/preprocess.py") for k in code_keys)
    assert not aws["_log"].exists(), aws["_log"].read_text()


def test_second_run_updates_and_merges_tags(aws):
    first = run_pipeline(aws, "--tags", '[{"Key": "team", "Value": "ml"}]')
    assert first.returncode == 0, first.stderr
    second = run_pipeline(
        aws, "--tags", "[{'Key': 'stage', 'Value': 'dev'}]", "--description", "updated"
    )
    assert second.returncode == 0, second.stderr
    sm = boto3.client("sagemaker", region_name="us-east-1")
    arn = sm.describe_pipeline(PipelineName="ci-abalone")["PipelineArn"]
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}
    assert tags["team"] == "ml" and tags["stage"] == "dev"
    assert sm.describe_pipeline(PipelineName="ci-abalone")["PipelineDescription"] == "updated"
    assert (
        len(sm.list_pipeline_executions(PipelineName="ci-abalone")["PipelineExecutionSummaries"])
        == 2
    )


def test_parameters_are_passed_to_the_execution(aws):
    result = run_pipeline(
        aws, "--parameters", '{"ModelApprovalStatus": "Approved", "MseThreshold": 5.5}'
    )
    assert result.returncode == 0, result.stderr
    sm = boto3.client("sagemaker", region_name="us-east-1")
    (summary,) = sm.list_pipeline_executions(PipelineName="ci-abalone")[
        "PipelineExecutionSummaries"
    ]
    params = sm.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=summary["PipelineExecutionArn"]
    )
    assert {p["Name"]: p["Value"] for p in params["PipelineParameters"]} == {
        "ModelApprovalStatus": "Approved",
        "MseThreshold": "5.5",
    }


def test_a_failed_execution_exits_1_naming_the_step(aws):
    FAIL_NEXT["reason"] = "AlgorithmError: training diverged"
    result = run_pipeline(aws)
    assert result.returncode == 1
    assert (
        "Execution failed at step CheckMSEAbaloneEvaluation: AlgorithmError: training diverged"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_an_endpoint_without_list_steps_still_completes(aws):
    from tests.moto_server import SageMakerResponse

    del SageMakerResponse.list_pipeline_execution_steps  # plain moto: HTTP 500
    result = run_pipeline(aws)
    assert result.returncode == 0, result.stderr
    assert "the step list is not available from this endpoint" in result.stdout


def test_the_classic_project_arn_mismatch_is_one_line(aws):
    result = run_pipeline(
        aws, kwargs={"region": "us-east-1", "role": ROLE, "sagemaker_project_arn": "arn:x"}
    )
    assert result.returncode == 2
    assert "takes no argument 'sagemaker_project_arn'" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_without_local_a_missing_role_arn_is_one_line():
    result = run_cli(["pipelines.run_pipeline", "-n", "pipelines.abalone.pipeline"])
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("run-pipeline: error: --role-arn is required") and "--local" in line
