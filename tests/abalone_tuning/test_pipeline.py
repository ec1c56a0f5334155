"""The tuning example end to end on the local target: Tuning, Lambda, @step and Callback together.

The pipeline is built, upserted and started with the SDK as on SageMaker; its approval step
is completed by the example's own worker, an ordinary boto3 SQS consumer started as a separate
process under ``PIPELINES_TARGET=local``.
"""

import os
import subprocess
import sys

import boto3
import pytest
import sagemaker
from sagemaker.workflow.selective_execution_config import SelectiveExecutionConfig

from pipelines.abalone_tuning.pipeline import get_pipeline
from tests.helpers import ROOT

pytestmark = pytest.mark.heavy  # scheduled first (tests/conftest.py)

# The user's pip settings, which the function job's installs take: offline, installed packages.
OFFLINE_PIP = {"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": "/dev/null", "PIP_FIND_LINKS": ""}
FUNCTION_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/py:1"


def approve_in_another_process(home):
    """The example's worker, as a user would run it: ``python -m ...approve --once``."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.abalone_tuning.approve", "--once", "--timeout", "180"],
        env={**os.environ, "PIPELINES_TARGET": "local", "PIPELINES_LOCAL_HOME": str(home)},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(execution, worker):
    out, err = worker.communicate(timeout=240)
    assert worker.returncode == 0, err
    try:
        execution.wait(delay=1, max_attempts=240)
    except Exception:  # a failed execution: the test looks at it
        pass
    return out


def test_tuning_lambda_function_and_callback_steps_run_end_to_end(local_target, monkeypatch):
    for name, value in OFFLINE_PIP.items():
        monkeypatch.setenv(name, value)
    role = sagemaker.get_execution_role()
    pipeline = get_pipeline(region="us-east-1", role=role, function_image_uri=FUNCTION_IMAGE)
    pipeline.upsert(role_arn=role)
    execution = pipeline.start()
    worker_output = finish(execution, approve_in_another_process(local_target))
    described = execution.describe()
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    steps = {s["StepName"]: s for s in execution.list_steps()}
    assert {name: s["StepStatus"] for name, s in steps.items()} == {
        "PreprocessAbaloneData": "Succeeded",
        "TuneAbaloneModel": "Succeeded",
        "SummariseTuning": "Succeeded",
        "ReportTuning": "Succeeded",
        "ApproveModel": "Succeeded",
        "CheckApproval": "Succeeded",
        "RegisterBestModel-RegisterModel": "Succeeded",
    }
    assert worker_output.strip() == f"{execution.arn}: Approved"

    sm, s3 = boto3.client("sagemaker"), boto3.client("s3")
    tuning_name = steps["TuneAbaloneModel"]["Metadata"]["TuningJob"]["Arn"].split("/")[-1]
    tuning = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_name)
    assert tuning["TrainingJobStatusCounters"]["Completed"] == 4
    best = sm.describe_training_job(TrainingJobName=tuning["BestTrainingJob"]["TrainingJobName"])
    artifact = best["ModelArtifacts"]["S3ModelArtifacts"]

    # get_top_model_s3_uri(0, ...) resolved to the best trial's real model
    (package,) = sm.list_model_packages(ModelPackageGroupName="AbaloneTuningPackageGroup")[
        "ModelPackageSummaryList"
    ]
    registered = sm.describe_model_package(ModelPackageName=package["ModelPackageArn"])
    assert registered["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == artifact
    bucket, key = artifact[len("s3://") :].split("/", 1)
    size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]

    summary = {
        p["Name"]: p["Value"]
        for p in steps["SummariseTuning"]["Metadata"]["Lambda"]["OutputParameters"]
    }
    assert summary["ModelUri"] == artifact and summary["ModelBytes"] == str(size)
    rmse = tuning["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert float(summary["Rmse"]) == pytest.approx(rmse)
    # the @step function's return value, computed in its job from the Lambda's output
    reported = execution.result(step_name="ReportTuning")
    assert reported["margin"] == pytest.approx(3.0 - rmse, abs=1e-5)
    assert reported["verdict"] == ("within" if rmse <= 3.0 else "above")
    callback = steps["ApproveModel"]["Metadata"]["Callback"]
    assert callback["SqsQueueUrl"].endswith("/AbaloneApprovalQueue")
    assert callback["OutputParameters"] == [{"Name": "Approval", "Value": "Approved"}]
    assert_a_selective_rerun_of_the_approval_rejects_without_tuning_again(
        pipeline, execution, local_target
    )


def assert_a_selective_rerun_of_the_approval_rejects_without_tuning_again(pipeline, source, home):
    """Only the approval runs again, with a stricter threshold; the rest comes from ``source``."""
    rerun = pipeline.start(
        parameters={"RmseThreshold": 0.1},
        selective_execution_config=SelectiveExecutionConfig(
            source_pipeline_execution_arn=source.arn,
            selected_steps=["ApproveModel", "CheckApproval", "ModelNotApproved"],
        ),
    )
    finish(rerun, approve_in_another_process(home))
    described = rerun.describe()
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"].endswith(") was Rejected")
    steps = {s["StepName"]: s for s in rerun.list_steps()}
    for reused in ("SummariseTuning", "ReportTuning"):  # read by the approval: from the source
        assert steps[reused]["SelectiveExecutionResult"] == {
            "SourcePipelineExecutionArn": source.arn
        }
    assert "TuneAbaloneModel" not in steps  # not read by the selected steps
    assert "RegisterBestModel-RegisterModel" not in steps
    tuning_jobs = boto3.client("sagemaker").list_hyper_parameter_tuning_jobs()
    assert len(tuning_jobs["HyperParameterTuningJobSummaries"]) == 1
