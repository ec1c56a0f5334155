"""A pipeline in the shape of AWS's ModelBuild seed code for SDK 3.x, on small synthetic data.

Four ``@step`` functions (preprocess, train, evaluate, register), a ConditionStep on the
evaluation's MSE and a FailStep. The functions travel by value (cloudpickle), as a notebook's do.
"""

import sys

import cloudpickle
from sagemaker.core.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.core.workflow.functions import Join
from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.mlops.workflow.condition_step import ConditionStep
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.function_step import step
from sagemaker.mlops.workflow.pipeline import Pipeline

cloudpickle.register_pickle_by_value(sys.modules[__name__])

NAME = "SeedSdk3"
GROUP = "SeedSdk3Models"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team-python:latest"


def sdk_config(folder, role):
    """The SDK's config file: what every @step takes (instance type, role, image)."""
    path = folder / "config.yaml"
    path.write_text(
        "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n"
        "      TelemetryOptOut: true\n      RemoteFunction:\n"
        f"        InstanceType: ml.m5.large\n        RoleArn: {role}\n        ImageUri: {IMAGE}\n"
    )
    return path


@step(name="preprocess")
def preprocess(noise: float) -> dict:
    """Points on y = 3x + 2, half above and half below by ``noise``; every 4th one held out."""
    xs = [float(x) for x in range(16)]
    ys = [3.0 * x + 2.0 + (noise if i % 2 else -noise) for i, x in enumerate(xs)]
    rows = list(zip(xs, ys))
    return {"train": [r for i, r in enumerate(rows) if i % 4], "test": rows[::4]}


@step(name="train")
def train(data: dict, bucket_prefix: str) -> dict:
    """A least-squares line; the model file goes to S3, where the registry points."""
    import json

    import boto3

    xs, ys = zip(*data["train"])
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    model = {"slope": slope, "intercept": my - slope * mx}
    bucket, prefix = bucket_prefix.removeprefix("s3://").split("/", 1)
    key = f"{prefix}/model.json"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(model).encode())
    return {**model, "uri": f"s3://{bucket}/{key}"}


@step(name="evaluate")
def evaluate(model: dict, data: dict) -> dict:
    errors = [(model["slope"] * x + model["intercept"] - y) ** 2 for x, y in data["test"]]
    return {"mse": sum(errors) / len(errors)}


@step(name="register")
def register(model: dict, metrics: dict, group: str, image: str) -> str:
    """A model package version in the group (made if missing), pending approval."""
    import boto3

    client = boto3.client("sagemaker")
    if not client.list_model_package_groups(NameContains=group)["ModelPackageGroupSummaryList"]:
        client.create_model_package_group(ModelPackageGroupName=group)
    return client.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={"mse": str(metrics["mse"])},
        InferenceSpecification={
            "Containers": [{"Image": image, "ModelDataUrl": model["uri"]}],
            "SupportedContentTypes": ["application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    )["ModelPackageArn"]


def build(bucket_prefix: str, mlflow_config=None) -> Pipeline:
    noise = ParameterFloat(name="Noise", default_value=0.5)
    threshold = ParameterFloat(name="MseThreshold", default_value=1.0)
    output = ParameterString(name="ModelPrefix", default_value=bucket_prefix)
    data = preprocess(noise)
    model = train(data, output)
    metrics = evaluate(model, data)
    check = ConditionStep(
        name="CheckMSE",
        conditions=[ConditionLessThanOrEqualTo(left=metrics["mse"], right=threshold)],
        if_steps=[register(model, metrics, GROUP, IMAGE)],
        else_steps=[
            FailStep(
                name="MSETooHigh",
                error_message=Join(on=" ", values=["MSE", metrics["mse"], "above", threshold]),
            )
        ],
    )
    return Pipeline(
        name=NAME,
        parameters=[noise, threshold, output],
        steps=[check],
        sagemaker_session=PipelineSession(),
        mlflow_config=mlflow_config,
    )
