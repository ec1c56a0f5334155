"""AWS's SDK 3.x seed-code shape (@step functions, condition on the MSE, FailStep), run locally."""

import json
import re
import statistics

import boto3
import pytest

import smlocal
from smlocal import config
from tests.sdk3 import seed_pipeline

ROLE = config.LOCAL_ROLE_ARN  # SDK 3.x checks the role with IAM: the local target's one role
PREFIX = "s3://sdk3-models/seed"


def expected_mse(noise=0.5):
    """The seed functions' MSE, worked out here with the standard library's regression."""
    rows = [(float(x), 3.0 * x + 2.0 + (noise if x % 2 else -noise)) for x in range(16)]
    fit = statistics.linear_regression(*zip(*[r for i, r in enumerate(rows) if i % 4]))
    return statistics.fmean((fit.slope * x + fit.intercept - y) ** 2 for x, y in rows[::4])


def per_build(definition: str) -> tuple[str, str]:
    """The two values the SDK makes new for every build: the build time and a signing key."""
    (build_time,) = set(re.findall(r'"--func_step_s3_dir", "([^"]+)"', definition))
    (key,) = set(re.findall(r'"REMOTE_FUNCTION_SECRET_KEY": "([^"]+)"', definition))
    return build_time, key


def without_per_build(definition: str) -> str:
    build_time, key = per_build(definition)
    return definition.replace(build_time, "<build-time>").replace(key, "<key>")


def run(pipeline, **start):
    execution = pipeline.start(**start)
    try:
        execution.wait(delay=1, max_attempts=600)
    except Exception:  # a failed execution: the test looks at it
        pass
    return {s["StepName"]: s for s in execution.list_steps()}, execution.describe()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The pipeline run with the default threshold, then with one below the model's MSE."""
    folder = tmp_path_factory.mktemp("seed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(seed_pipeline.sdk_config(folder, ROLE)))
        with smlocal.local_target(home=folder / "home"):
            boto3.client("s3").create_bucket(Bucket="sdk3-models")
            pipeline = seed_pipeline.build(PREFIX)
            definitions = [pipeline.definition(), seed_pipeline.build(PREFIX).definition()]
            pipeline.upsert(role_arn=ROLE)
            passing = run(pipeline)
            failing = run(pipeline, parameters={"MseThreshold": 0.1})
            packages = boto3.client("sagemaker").list_model_packages(
                ModelPackageGroupName=seed_pipeline.GROUP
            )["ModelPackageSummaryList"]
            described = [
                boto3.client("sagemaker").describe_model_package(
                    ModelPackageName=p["ModelPackageArn"]
                )
                for p in packages
            ]
            yield {
                "definitions": definitions,
                "passing": passing,
                "failing": failing,
                "packages": described,
            }


def test_the_definition_is_the_same_but_for_what_the_sdk_makes_per_build(runs):
    first, second = runs["definitions"]
    assert without_per_build(first) == without_per_build(second)
    assert per_build(first)[1] != per_build(second)[1]  # a new signing key each build
    parsed = json.loads(first)
    assert parsed["MlflowConfig"] is None
    assert {s["Name"]: s["Type"] for s in parsed["Steps"]} == {
        "CheckMSE": "Condition",
        "preprocess": "Training",
        "train": "Training",
        "evaluate": "Training",
    }


def test_the_real_mse_takes_the_register_branch(runs):
    steps, described = runs["passing"]
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    assert {n: s["StepStatus"] for n, s in steps.items()} == {
        "preprocess": "Succeeded",
        "train": "Succeeded",
        "evaluate": "Succeeded",
        "CheckMSE": "Succeeded",
        "register": "Succeeded",
    }
    assert steps["CheckMSE"]["Metadata"]["Condition"]["Outcome"] == "True"


def test_the_register_step_made_one_model_package_version(runs):
    (package,) = runs["packages"]  # the failing run registered none
    assert package["ModelPackageVersion"] == 1
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert float(package["CustomerMetadataProperties"]["mse"]) == pytest.approx(expected_mse())
    (container,) = package["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == f"{PREFIX}/model.json"


def test_a_threshold_below_the_mse_fails_with_the_fail_steps_reason(runs):
    steps, described = runs["failing"]
    assert described["PipelineExecutionStatus"] == "Failed"
    assert steps["CheckMSE"]["Metadata"]["Condition"]["Outcome"] == "False"
    assert "register" not in steps
    assert steps["MSETooHigh"]["StepStatus"] == "Failed"
    mse = float(steps["MSETooHigh"]["FailureReason"].split()[1])
    assert mse == pytest.approx(expected_mse())
    assert steps["MSETooHigh"]["FailureReason"] == f"MSE {mse} above 0.1"


def test_an_mlflow_config_is_refused_by_name(local_home, tmp_path, monkeypatch):
    from sagemaker.core.shapes.shapes import MlflowConfig

    monkeypatch.setenv(
        "SAGEMAKER_USER_CONFIG_OVERRIDE", str(seed_pipeline.sdk_config(tmp_path, ROLE))
    )
    arn = "arn:aws:sagemaker:us-east-1:000000000000:mlflow-tracking-server/team"
    with smlocal.local_target(home=local_home):
        pipeline = seed_pipeline.build(PREFIX, mlflow_config=MlflowConfig(mlflow_resource_arn=arn))
        assert json.loads(pipeline.definition())["MlflowConfig"]["MlflowResourceArn"] == arn
        with pytest.raises(Exception) as refused:
            pipeline.upsert(role_arn=ROLE)
    message = str(refused.value)
    assert "ValidationException" in message
    assert "MlflowConfig" in message and arn in message and "without mlflow_config" in message
