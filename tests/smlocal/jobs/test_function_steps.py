"""``@step`` function pipelines on the local target, run by the SDK's own remote-function jobs.

The pipeline is preprocess -> train -> evaluate (plain functions decorated with ``@step``),
a ConditionStep on ``evaluate()["mse"]`` and a FailStep. Instance type, role and image come
from the SDK's config file (``SageMaker.PythonSDK.Modules.RemoteFunction``), as on SageMaker.
Each job runs the SDK's ``job_driver.sh`` in its container: bootstrap, ``pip install`` of the
job's requirements into the image's environment, then ``sagemaker.remote_function.invoke_function``.
"""

import subprocess
import sys

import boto3
import cloudpickle
import pytest
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.function_step import step
from sagemaker.workflow.functions import Join
from sagemaker.workflow.parameters import ParameterFloat
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.selective_execution_config import SelectiveExecutionConfig

import smlocal
from smlocal.containers import environments

pytestmark = pytest.mark.heavy  # scheduled first (tests/conftest.py)

# The functions travel by value (as a notebook's do): the job needs no copy of this module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team-python:latest"  # a user's own image
ROLE = "arn:aws:iam::123456789012:role/TeamRemoteFunctionRole"
INSTANCE_TYPE = "ml.c5.2xlarge"
MSE_LIMIT = 1.0


def sdk_config(folder, image=IMAGE):
    """The SDK's config file: the remote-function defaults every @step takes."""
    path = folder / "config.yaml"
    path.write_text(
        "SchemaVersion: '1.0'\n"
        "SageMaker:\n"
        "  PythonSDK:\n"
        "    Modules:\n"
        "      TelemetryOptOut: true\n"
        "      RemoteFunction:\n"
        f"        InstanceType: {INSTANCE_TYPE}\n"
        f"        RoleArn: {ROLE}\n"
        f"        ImageUri: {image}\n"
        "        EnvironmentVariables:\n"
        "          TEAM: modelling\n"
    )
    return path


@step(name="preprocess")
def preprocess():
    import os

    xs = [float(x) for x in range(10) for _ in (0, 1)]
    ys = [3.0 * x + 2.0 + (0.5 if i % 2 else -0.5) for i, x in enumerate(xs)]
    return {"x": xs, "y": ys, "team": os.environ.get("TEAM")}


@step(name="train")
def train(data):
    xs, ys = data["x"], data["y"]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return {"slope": slope, "intercept": my - slope * mx}


@step(name="evaluate")
def evaluate(model, data, noise):
    """The squared error on held-out points as far off the line as ``noise``."""
    errors = [
        (model["slope"] * x + model["intercept"] - (3.0 * x + 2.0 + noise)) ** 2 for x in data["x"]
    ]
    return {"mse": sum(errors) / len(errors), "team": data["team"]}


def build_pipeline(name="FunctionSteps"):
    noise = ParameterFloat(name="Noise", default_value=0.5)
    data = preprocess()
    result = evaluate(train(data), data, noise)
    check = ConditionStep(
        name="CheckMSE",
        conditions=[ConditionLessThanOrEqualTo(left=result["mse"], right=MSE_LIMIT)],
        if_steps=[],
        else_steps=[
            FailStep(name="MSETooHigh", error_message=Join(on=" ", values=["mse", result["mse"]]))
        ],
    )
    return Pipeline(
        name=name, parameters=[noise], steps=[check], sagemaker_session=PipelineSession()
    )


def run(pipeline, **start):
    execution = pipeline.start(**start)
    try:
        execution.wait(delay=1, max_attempts=600)
    except Exception:  # a failed execution: the test looks at it
        pass
    return execution


def looked_at(runs, name):
    """The execution's steps and its steps' results, read on the run's local target."""
    execution = runs[name]
    with smlocal.local_target(home=runs["home"]):
        steps = {s["StepName"]: s for s in execution.list_steps()}
        results = {
            n: execution.result(step_name=n)
            for n in ("preprocess", "train", "evaluate")
            # (the SDK reads a step's result under this execution: not one from a source's)
            if steps.get(n, {}).get("StepStatus") == "Succeeded"
            and "SelectiveExecutionResult" not in steps[n]
        }
        described = execution.describe()
        jobs = {
            n: boto3.client("sagemaker").describe_training_job(
                TrainingJobName=steps[n]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
            )
            for n in results
        }
    return described, steps, results, jobs


def user_freeze():
    return subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The pipeline run, then its evaluation again with more noise (the MSE passes, then fails)."""
    folder = tmp_path_factory.mktemp("function-steps")
    home = folder / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(sdk_config(folder)))
        # the user's pip settings, which the jobs' installs take: offline, installed packages only
        patch.setenv("PIP_NO_INDEX", "1")
        patch.setenv("PIP_CONFIG_FILE", "/dev/null")
        patch.setenv("PIP_FIND_LINKS", "")
        before = user_freeze()
        with smlocal.local_target(home=home):
            pipeline = build_pipeline()
            pipeline.upsert(role_arn=ROLE)
            passing = run(pipeline)
            # only the evaluation again, on noisier points: the model comes from the first run
            failing = run(
                pipeline,
                selective_execution_config=SelectiveExecutionConfig(
                    source_pipeline_execution_arn=passing.arn,
                    selected_steps=["evaluate", "CheckMSE", "MSETooHigh"],
                ),
                parameters={"Noise": 2.0},
            )
            yield {
                "home": home,
                "pipeline": pipeline,
                "passing": passing,
                "failing": failing,
                "before": before,
                "after": user_freeze(),
            }


def test_returned_values_flow_between_steps_into_the_condition(runs):
    described, steps, results, _ = looked_at(runs, "passing")
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    assert {n: s["StepStatus"] for n, s in steps.items()} == {
        "preprocess": "Succeeded",
        "train": "Succeeded",
        "evaluate": "Succeeded",
        "CheckMSE": "Succeeded",
    }
    assert results["train"] == {"slope": pytest.approx(3.0), "intercept": pytest.approx(2.0)}
    assert results["evaluate"] == {"mse": pytest.approx(0.25), "team": "modelling"}
    assert steps["CheckMSE"]["Metadata"]["Condition"]["Outcome"] == "True"


def test_a_changed_value_turns_the_condition_the_other_way(runs):
    described, steps, results, _ = looked_at(runs, "failing")
    assert described["PipelineExecutionStatus"] == "Failed"
    assert steps["train"]["StepStatus"] == "Succeeded"  # from the first run, not run again
    assert "SelectiveExecutionResult" in steps["train"]
    assert results["evaluate"]["mse"] == pytest.approx(4.0)
    assert steps["CheckMSE"]["Metadata"]["Condition"]["Outcome"] == "False"
    assert steps["MSETooHigh"]["StepStatus"] == "Failed"
    assert steps["MSETooHigh"]["FailureReason"] == "mse 4.0"


def test_the_sdk_config_file_sets_instance_type_role_image_and_environment(runs):
    _, _, _, jobs = looked_at(runs, "passing")
    job = jobs["train"]
    assert job["ResourceConfig"]["InstanceType"] == INSTANCE_TYPE
    assert job["RoleArn"] == ROLE
    assert job["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert job["Environment"]["TEAM"] == "modelling"


def test_the_jobs_installs_leave_the_users_environment_as_it_was(runs):
    assert runs["after"] == runs["before"]
    (listed,) = environments.listing(runs["home"])
    assert listed["image"] == IMAGE  # the jobs ran in their image's environment


def test_an_image_without_python_is_refused_naming_step(local_home, tmp_path, monkeypatch):
    kmeans = "382416733822.dkr.ecr.us-east-1.amazonaws.com/kmeans:1"
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(sdk_config(tmp_path, image=kmeans)))
    with smlocal.local_target(home=local_home):
        pipeline = build_pipeline("NoPython")
        with pytest.raises(Exception) as refused:
            pipeline.upsert(role_arn=ROLE)
    message = str(refused.value)
    assert "ValidationException" in message
    assert "@step function" in message and "kmeans" in message and "not a Python image" in message


def test_an_image_of_another_python_fails_as_the_sdks_bootstrap_says(
    local_home, tmp_path, monkeypatch
):
    other = "310" if sys.version_info[:2] != (3, 10) else "39"
    image = f"236514542706.dkr.ecr.us-east-1.amazonaws.com/sagemaker-base-python-{other}:1.0"
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(sdk_config(tmp_path, image=image)))
    with smlocal.local_target(home=local_home):
        pipeline = build_pipeline("OtherPython")
        pipeline.upsert(role_arn=ROLE)
        execution = run(pipeline)
        steps = {s["StepName"]: s for s in execution.list_steps()}
        assert execution.describe()["PipelineExecutionStatus"] == "Failed"
    assert set(steps) == {"preprocess"}
    mine = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert (
        f"Python version found in the container is '{other[0]}.{other[1:]}' which does not "
        f"match python version '{mine}'" in steps["preprocess"]["FailureReason"]
    )


def test_the_python_path_map_is_refused_naming_step(local_home, tmp_path, monkeypatch):
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(sdk_config(tmp_path)))
    monkeypatch.setenv("PIPELINES_LOCAL_CONTAINER", "map")
    with smlocal.local_target(home=local_home):
        pipeline = build_pipeline("OnTheMap")
        with pytest.raises(Exception) as refused:
            pipeline.upsert(role_arn=ROLE)
    message = str(refused.value)
    assert "@step function" in message and "'/bin/bash' is not supported locally" in message
