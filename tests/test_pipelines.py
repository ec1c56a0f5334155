"""Tests of your pipeline, run end to end on this machine in seconds.

The seed code's stub (``test_that_you_wrote_tests``, marked xfail) made real. The
``local_target`` fixture comes with the local target: while a test runs, every AWS call is
answered on this machine, so ``get_pipeline`` builds, upserts and runs the pipeline exactly as
it would on SageMaker, with the SDK's own calls, and the test asserts on what the run made.
Copy it for your own pipelines.
"""

import json

import boto3
import pytest
import sagemaker

from pipelines.abalone.pipeline import get_pipeline

GROUP = "AbalonePackageGroup"


def run(parameters=None):
    """Upsert and run the pipeline as CodeBuild's run-pipeline would; returns the execution."""
    role = sagemaker.get_execution_role()  # on the local target: its own role
    pipeline = get_pipeline(region="us-east-1", role=role)
    pipeline.upsert(role_arn=role)
    execution = pipeline.start(parameters=parameters or {})
    try:
        execution.wait()  # the SDK's waiter: returns as soon as the execution ends
    except Exception:  # a failed execution: the tests look at it
        pass
    return execution


def read_json(s3_uri):
    bucket, key = s3_uri[len("s3://") :].split("/", 1)
    return json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.fixture
def execution(local_target):
    return run()


def test_every_step_succeeds(execution):
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"
    statuses = {step["StepName"]: step["StepStatus"] for step in execution.list_steps()}
    assert statuses == {
        "PreprocessAbaloneData": "Succeeded",
        "TrainAbaloneModel": "Succeeded",
        "EvaluateAbaloneModel": "Succeeded",
        "CheckMSEAbaloneEvaluation": "Succeeded",
        "RegisterAbaloneModel-RegisterModel": "Succeeded",
    }


def test_the_model_is_registered_with_its_metrics(execution):
    sm = boto3.client("sagemaker")
    (summary,) = sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert summary["ModelApprovalStatus"] == "PendingManualApproval"
    package = sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
    assert package["MetadataProperties"]["GeneratedBy"] == execution.arn
    report = read_json(package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"])
    mse = report["regression_metrics"]["mse"]["value"]
    assert 3.0 < mse < 6.0  # the published MSE on this data is about 4.9


def test_a_poor_model_is_not_registered(local_target):
    execution = run({"MseThreshold": 1.0})
    assert execution.describe()["PipelineExecutionStatus"] == "Failed"
    failed = {s["StepName"]: s for s in execution.list_steps() if s["StepStatus"] == "Failed"}
    assert list(failed) == ["AbaloneMSEAboveThreshold"]
    assert "above the threshold 1.0" in failed["AbaloneMSEAboveThreshold"]["FailureReason"]
    packages = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName=GROUP)
    assert packages["ModelPackageSummaryList"] == []
