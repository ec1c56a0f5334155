"""The SDK path: the same Pipeline object and calls, with a LocalPipelineSession."""

import json
import os

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from pipelines.local.session import LocalPipelineSession


@pytest.fixture
def pipeline(local_home, monkeypatch):
    monkeypatch.setenv("PIPELINES_TARGET", "local")
    from pipelines.abalone.pipeline import get_pipeline

    return get_pipeline("us-east-1", pipeline_name="SdkPath")


def test_get_pipeline_uses_the_local_session(pipeline, local_home):
    session = pipeline.sagemaker_session
    assert isinstance(session, LocalPipelineSession)
    assert session.default_bucket() == "sagemaker-us-east-1-000000000000"
    assert session.local_home == local_home


def test_upsert_start_describe_wait_list_steps(pipeline, local_home):
    role = "arn:aws:iam::000000000000:role/Any"
    created = pipeline.upsert(role_arn=role, description="first")
    assert created["PipelineArn"] == "arn:aws:sagemaker:us-east-1:000000000000:pipeline/sdkpath"
    updated = pipeline.upsert(role_arn=role, description="second")
    assert updated["PipelineArn"] == created["PipelineArn"]
    described = pipeline.describe()
    assert described["PipelineDescription"] == "second"
    assert json.loads(described["PipelineDefinition"]) == json.loads(pipeline.definition())

    execution = pipeline.start(parameters={"ModelApprovalStatus": "Approved", "MseThreshold": 5.9})
    execution.wait(delay=1, max_attempts=120)  # the SDK's own botocore waiter, on the local client
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"
    steps = execution.list_steps()
    assert {s["StepName"] for s in steps} == {
        "PreprocessAbaloneData",
        "TrainAbaloneModel",
        "EvaluateAbaloneModel",
        "CheckMSEAbaloneEvaluation",
        "RegisterAbaloneModel-RegisterModel",
    }
    params = {p["Name"]: p["Value"] for p in execution.list_parameters()["PipelineParameters"]}
    assert params["ModelApprovalStatus"] == "Approved" and params["MseThreshold"] == "5.9"

    client = pipeline.sagemaker_session.sagemaker_client
    (package,) = client.list_model_packages(ModelPackageGroupName="AbalonePackageGroup")[
        "ModelPackageSummaryList"
    ]
    assert package["ModelApprovalStatus"] == "Approved"
    full = client.describe_model_package(ModelPackageName=package["ModelPackageArn"])
    assert full["MetadataProperties"]["GeneratedBy"] == execution.arn
    metrics_uri = full["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    report = json.loads(pipeline.sagemaker_session.read_s3_file(*metrics_uri[5:].split("/", 1)))
    assert report["regression_metrics"]["mse"]["value"] < 5.9
    training = next(s for s in steps if s["StepName"] == "TrainAbaloneModel")
    arn = training["Metadata"]["TrainingJob"]["Arn"]
    assert arn.startswith("arn:aws:sagemaker:us-east-1:000000000000:training-job/pipelines-")

    job = client.describe_training_job(TrainingJobName=arn.rsplit("/", 1)[1])
    assert job["TrainingJobStatus"] == "Completed"
    model_url = full["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == model_url
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert set(metrics) == {"train:rmse", "validation:rmse"}
    assert 0 < metrics["train:rmse"] < metrics["validation:rmse"] < 3
    evaluation = next(s for s in steps if s["StepName"] == "EvaluateAbaloneModel")
    processing = client.describe_processing_job(
        ProcessingJobName=evaluation["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[1]
    )
    (output,) = processing["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"] + "/evaluation.json" == metrics_uri


def test_client_validates_requests_like_boto3(local_home):
    session = LocalPipelineSession(region="us-east-1")
    client = session.sagemaker_client
    with pytest.raises(ParamValidationError, match="PipelineName"):
        client.describe_pipeline()
    with pytest.raises(ClientError) as err:
        client.describe_pipeline(PipelineName="Missing")
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"
    with pytest.raises(ClientError) as err:
        client.update_model_package(
            ModelPackageArn="arn:aws:sagemaker:us-east-1:000000000000:model-package/x/1",
            ModelApprovalStatus="Approved",
        )
    assert "does not exist" in err.value.response["Error"]["Message"]


def test_uploads_go_to_the_local_store(local_home, tmp_path):
    session = LocalPipelineSession(region="eu-west-1")
    source = tmp_path / "file.txt"
    source.write_text("x")
    uri = session.upload_data(str(source), key_prefix="some/prefix")
    assert uri == "s3://sagemaker-eu-west-1-000000000000/some/prefix/file.txt"
    assert (
        local_home / "s3" / "sagemaker-eu-west-1-000000000000" / "some" / "prefix" / "file.txt"
    ).read_text() == "x"
    assert session.upload_string_as_file_body("body", "b", "k/v.json") == "s3://b/k/v.json"
    assert session.read_s3_file("b", "k/v.json") == "body"
    assert os.environ.get("AWS_ACCESS_KEY_ID") is None  # nothing looked for or set real credentials
