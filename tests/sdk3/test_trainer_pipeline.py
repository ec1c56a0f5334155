"""A pipeline of SDK 3.x job classes (ScriptProcessor, ModelTrainer, ModelBuilder), run locally."""

import io
import json
import re
import tarfile

import boto3
import joblib
import numpy as np
import pytest

import smlocal
from smlocal import config
from tests.sdk3 import trainer_pipeline

ROLE = config.LOCAL_ROLE_ARN  # SDK 3.x checks the role with IAM: the local target's one role
BUCKET = "sdk3-trainer"
PREFIX = f"s3://{BUCKET}/run"
# ModelTrainer uploads its source folder and drivers under a job name made at build time
PER_BUILD = re.compile(r"TrainerSdk3-train-\d{14}")


def synthetic_rows(count=80, seed=7):
    """x1, x2, y with y = 3 x1 - 2 x2 + 1 plus noise (standard deviation 0.5)."""
    rng = np.random.default_rng(seed)
    features = rng.uniform(-5, 5, size=(count, 2))
    target = features @ [3.0, -2.0] + 1.0 + rng.normal(0, 0.5, size=count)
    return np.column_stack([features, target])


def expected_mse(rows):
    """The split and fit done again here with numpy's least squares (not the scripts' sklearn)."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(rows, test_size=0.25, random_state=0)
    design = np.column_stack([train[:, :-1], np.ones(len(train))])
    weights, *_ = np.linalg.lstsq(design, train[:, -1], rcond=None)
    predicted = np.column_stack([test[:, :-1], np.ones(len(test))]) @ weights
    return float(np.mean((predicted - test[:, -1]) ** 2))


def read(s3, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def unpickled(archive: bytes):
    """The model.joblib in a model.tar.gz."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as members:
        return joblib.load(members.extractfile("model.joblib"))


def run(pipeline, **start):
    execution = pipeline.start(**start)
    try:
        execution.wait(delay=1, max_attempts=600)
    except Exception:  # a failed execution: the test looks at it
        pass
    return {s["StepName"]: s for s in execution.list_steps()}, execution.describe()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Built twice; run with the default threshold, then with one below the model's MSE."""
    home = tmp_path_factory.mktemp("trainer") / "home"
    rows = synthetic_rows()
    with smlocal.local_target(home=home):
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        text = io.StringIO()
        np.savetxt(text, rows, delimiter=",")
        s3.put_object(Bucket=BUCKET, Key="run/raw/data.csv", Body=text.getvalue().encode())
        pipeline = trainer_pipeline.build(ROLE, PREFIX)
        definitions = [pipeline.definition(), trainer_pipeline.build(ROLE, PREFIX).definition()]
        pipeline.upsert(role_arn=ROLE)
        passing = run(pipeline)
        failing = run(pipeline, parameters={"MseThreshold": 0.01})
        sm = boto3.client("sagemaker")
        packages = sm.list_model_packages(ModelPackageGroupName=trainer_pipeline.GROUP)
        described = [
            sm.describe_model_package(ModelPackageName=p["ModelPackageArn"])
            for p in packages["ModelPackageSummaryList"]
        ]
        reports, models = {}, {}
        for package in described:
            uri = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
            reports[uri] = json.loads(read(s3, uri))
            for container in package["InferenceSpecification"]["Containers"]:
                models[container["ModelDataUrl"]] = unpickled(read(s3, container["ModelDataUrl"]))
        yield {
            "definitions": definitions,
            "passing": passing,
            "failing": failing,
            "packages": described,
            "reports": reports,
            "models": models,
            "mse": expected_mse(rows),
        }


def test_the_definition_is_the_same_but_for_the_trainers_upload_folder(runs):
    first, second = runs["definitions"]
    assert PER_BUILD.sub("<job>", first) == PER_BUILD.sub("<job>", second)
    assert len(set(PER_BUILD.findall(first))) == 1  # one name, in the code and drivers channels
    steps = json.loads(first)["Steps"]
    assert {s["Name"]: s["Type"] for s in steps} == {
        "Preprocess": "Processing",
        "Train": "Training",
        "Evaluate": "Processing",
        "CheckMSE": "Condition",
    }
    (check,) = [s for s in steps if s["Type"] == "Condition"]
    assert [s["Type"] for s in check["Arguments"]["IfSteps"]] == ["RegisterModel"]
    assert [s["Type"] for s in check["Arguments"]["ElseSteps"]] == ["Fail"]


def test_the_real_mse_takes_the_register_branch(runs):
    steps, described = runs["passing"]
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    assert {n: s["StepStatus"] for n, s in steps.items()} == {
        "Preprocess": "Succeeded",
        "Train": "Succeeded",
        "Evaluate": "Succeeded",
        "CheckMSE": "Succeeded",
        "Register": "Succeeded",
    }
    assert steps["CheckMSE"]["Metadata"]["Condition"]["Outcome"] == "True"


def test_the_registered_version_points_at_the_trained_model_and_its_metrics(runs):
    (package,) = runs["packages"]  # the failing run registered none
    assert package["ModelPackageVersion"] == 1
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    steps, _ = runs["passing"]
    training_job = steps["Train"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    (container,) = package["InferenceSpecification"]["Containers"]
    assert container["Image"] == trainer_pipeline.image()
    assert container["ModelDataUrl"].lower().endswith(f"/{training_job}/output/model.tar.gz")
    model = runs["models"][container["ModelDataUrl"]]  # what train.py fitted and saved
    assert model.coef_ == pytest.approx([3.0, -2.0], abs=0.1)
    assert model.intercept_ == pytest.approx(1.0, abs=0.2)
    (report,) = runs["reports"].values()
    assert report["regression_metrics"]["mse"]["value"] == pytest.approx(runs["mse"])
    assert runs["mse"] < 1.0  # the noise's variance is 0.25


def test_a_threshold_below_the_mse_fails_with_the_fail_steps_reason(runs):
    steps, described = runs["failing"]
    assert described["PipelineExecutionStatus"] == "Failed"
    assert steps["CheckMSE"]["Metadata"]["Condition"]["Outcome"] == "False"
    assert "Register" not in steps
    assert steps["MSETooHigh"]["StepStatus"] == "Failed"
    mse = float(steps["MSETooHigh"]["FailureReason"].split()[1])
    assert mse == pytest.approx(runs["mse"])
    assert steps["MSETooHigh"]["FailureReason"] == f"MSE {mse} above 0.01"
