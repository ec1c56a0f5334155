"""The second example pipeline end to end on the local target, and its parity with SageMaker.

Parity: what SageMaker documents for each step type (artifact locations, file names, step
list metadata, ARNs, and the Describe* shapes that step properties follow) is checked against
what the local run produced; the shapes come from botocore's model of the SageMaker API.
"""

import json
import re
import sqlite3

import botocore.session
import pytest

from tests.helpers import LocalSageMaker, definition_steps, run_cli

MODULE = "pipelines.abalone_sklearn.pipeline"
SERVICE = botocore.session.get_session().get_service_model("sagemaker")


def _steps(definition):
    return definition_steps(definition)


def test_definition_uses_every_step_type_and_is_deterministic(local_home):
    first = run_cli(["pipelines.get_pipeline_definition", "-n", MODULE, "--local"], no_network=True)
    second = run_cli(
        ["pipelines.get_pipeline_definition", "-n", MODULE, "--local"], no_network=True
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    steps = _steps(json.loads(first.stdout))
    assert {n: (s["Type"], s.get("Branch")) for n, s in steps.items()} == {
        "PreprocessAbaloneData": ("Processing", None),
        "TrainAbaloneSklearnModel": ("Training", None),
        "EvaluateAbaloneSklearnModel": ("Processing", None),
        "CheckMSEAbaloneSklearnEvaluation": ("Condition", None),
        "RegisterAbaloneSklearnModel-RegisterModel": ("RegisterModel", "IfSteps"),
        "CreateAbaloneSklearnModel-CreateModel": ("Model", "IfSteps"),
        "TransformAbaloneTestSplit": ("Transform", "IfSteps"),
        "ScoreAbaloneTransform": ("Processing", "IfSteps"),
        "AbaloneSklearnMSEAboveThreshold": ("Fail", "ElseSteps"),
    }
    train = steps["TrainAbaloneSklearnModel"]
    hps = train["Arguments"]["HyperParameters"]
    assert hps["sagemaker_program"] == '"train.py"'
    assert re.fullmatch(
        r'"s3://[^"]+/AbaloneSklearnPipeline/code/[0-9a-f]{64}/sourcedir.tar.gz"',
        hps["sagemaker_submit_directory"],
    )
    assert train["RetryPolicies"][0]["ExceptionType"] == ["SageMaker.JOB_INTERNAL_ERROR"]
    processing = steps["TransformAbaloneTestSplit"]["Arguments"]["DataProcessing"]
    assert processing == {"InputFilter": "$[1:]", "OutputFilter": "$[0,-1]", "JoinSource": "Input"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    result = run_cli(
        ["pipelines.run_pipeline", "-n", MODULE, "--local"],
        env={
            "PIPELINES_LOCAL_HOME": str(home),
            "AWS_EC2_METADATA_DISABLED": "true",
        },
        no_network=True,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    arn = next(
        line.split(": ", 1)[1]
        for line in result.stdout.splitlines()
        if "PipelineExecutionArn:" in line
    )
    client = LocalSageMaker(home)
    steps = {
        s["StepName"]: s
        for s in client.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
            "PipelineExecutionSteps"
        ]
    }
    return home, arn, client, steps


def test_runs_end_to_end(run):
    home, arn, client, steps = run
    assert set(steps) == {
        "PreprocessAbaloneData",
        "TrainAbaloneSklearnModel",
        "EvaluateAbaloneSklearnModel",
        "CheckMSEAbaloneSklearnEvaluation",
        "RegisterAbaloneSklearnModel-RegisterModel",
        "CreateAbaloneSklearnModel-CreateModel",
        "TransformAbaloneTestSplit",
        "ScoreAbaloneTransform",
    }
    assert all(s["StepStatus"] == "Succeeded" for s in steps.values())
    score_job = client.describe_processing_job(
        ProcessingJobName=steps["ScoreAbaloneTransform"]["Metadata"]["ProcessingJob"]["Arn"].rsplit(
            "/", 1
        )[1]
    )
    (output,) = score_job["ProcessingOutputConfig"]["Outputs"]
    score = json.loads(client.backend.store.get_bytes(output["S3Output"]["S3Uri"] + "/score.json"))
    assert score["rows"] == 627
    assert 3.5 < score["regression_metrics"]["mse"]["value"] < 6.0
    (package,) = client.list_model_packages(ModelPackageGroupName="AbaloneSklearnPackageGroup")[
        "ModelPackageSummaryList"
    ]
    assert package["ModelPackageVersion"] == 1


def test_parity_training_artifacts_and_metrics(run):
    _, _, client, steps = run
    job = client.describe_training_job(
        TrainingJobName=steps["TrainAbaloneSklearnModel"]["Metadata"]["TrainingJob"]["Arn"].rsplit(
            "/", 1
        )[1]
    )
    # SageMaker: <S3OutputPath>/<TrainingJobName>/output/model.tar.gz
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == (
        f"{job['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job['TrainingJobName']}/output/model.tar.gz"
    )
    assert {m["MetricName"] for m in job["FinalMetricDataList"]} == {"train:mse", "validation:mse"}
    assert re.fullmatch(
        r"pipelines-[a-z0-9]{12}-TrainAbaloneSklearnModel-[a-z0-9]{10}", job["TrainingJobName"]
    )


def test_parity_transform_output_names(run):
    _, _, client, steps = run
    job = client.describe_transform_job(
        TransformJobName=steps["TransformAbaloneTestSplit"]["Metadata"]["TransformJob"][
            "Arn"
        ].rsplit("/", 1)[1]
    )
    out = job["TransformOutput"]["S3OutputPath"]
    # SageMaker: one <input object name>.out per input object, under S3OutputPath
    objects = [uri for uri, _ in client.backend.store.list(out.rstrip("/") + "/")]
    assert objects == [f"{out}/test.csv.out"]
    lines = client.backend.store.get_bytes(objects[0]).decode().splitlines()
    assert len(lines) == 627 and all(
        len(line.split(",")) == 2 for line in lines
    )  # $[0,-1]: label, prediction


def test_parity_step_list_metadata_and_arns(run):
    _, _, _, steps = run
    expected = {
        "PreprocessAbaloneData": ("ProcessingJob", "processing-job"),
        "TrainAbaloneSklearnModel": ("TrainingJob", "training-job"),
        "CreateAbaloneSklearnModel-CreateModel": ("Model", "model"),
        "TransformAbaloneTestSplit": ("TransformJob", "transform-job"),
        "RegisterAbaloneSklearnModel-RegisterModel": ("RegisterModel", "model-package"),
    }
    metadata_shape = SERVICE.shape_for("PipelineExecutionStepMetadata")
    for name, (key, resource) in expected.items():
        assert list(steps[name]["Metadata"]) == [key] and key in metadata_shape.members
        assert re.fullmatch(
            rf"arn:aws:sagemaker:us-east-1:000000000000:{resource}/[a-z0-9/-]+",
            steps[name]["Metadata"][key]["Arn"],
        )
    assert steps["CheckMSEAbaloneSklearnEvaluation"]["Metadata"] == {
        "Condition": {"Outcome": "True"}
    }


def _undocumented(value, shape, path=""):
    """Keys of ``value`` that the botocore shape does not have."""
    found = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, item in value.items():
            if key not in shape.members:
                found.append(f"{path}.{key}")
            else:
                found += _undocumented(item, shape.members[key], f"{path}.{key}")
    elif shape.type_name == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            found += _undocumented(item, shape.member, f"{path}[{i}]")
    return found


@pytest.mark.parametrize(
    "step,operation",
    [
        ("PreprocessAbaloneData", "DescribeProcessingJob"),
        ("TrainAbaloneSklearnModel", "DescribeTrainingJob"),
        ("CreateAbaloneSklearnModel-CreateModel", "DescribeModel"),
        ("TransformAbaloneTestSplit", "DescribeTransformJob"),
        ("RegisterAbaloneSklearnModel-RegisterModel", "DescribeModelPackage"),
    ],
)
def test_parity_step_properties_follow_the_describe_shapes(run, step, operation):
    """Properties a definition can Get are those of the step's Describe* response: none invented."""
    home, arn, _, _ = run
    with sqlite3.connect(home / "state.sqlite") as db:
        (properties,) = db.execute(
            "SELECT properties FROM steps WHERE execution_arn=? AND name=?", (arn, step)
        ).fetchone()
    output_shape = SERVICE.operation_model(operation).output_shape
    assert _undocumented(json.loads(properties), output_shape) == []
