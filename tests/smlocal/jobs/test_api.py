"""Jobs through boto3, outside any pipeline: create, describe, fail, stop, list, refuse.

Each job is a record with SageMaker's states; Describe* answers from it, in botocore's shapes.
"""

import os
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.smlocal.builders import definition, processing, put_script as put_store_script, run
from tests.smlocal.jobs.requests import (
    BUCKET,
    ROLE,
    XGB_IMAGE,
    processing_job,
    put_script,
    training_job,
    wait_for,
)

SPLIT = """
import os
rows = open("/opt/ml/processing/input/data/data.csv").read().splitlines()
print(f"splitting {len(rows)} rows")
for name, part in (("train", rows[:3]), ("test", rows[3:])):
    with open(f"/opt/ml/processing/{name}/{name}.csv", "w") as f:
        f.write("\\n".join(part) + "\\n")
"""
CRASH = """
print("about to fail")
raise ValueError("the data is wrong")
"""
SLEEP = """
import os, time
print("sleeping", os.getpid(), flush=True)
time.sleep(60)
"""


def describe_processing(aws, name):
    return lambda: aws.sm.describe_processing_job(ProcessingJobName=name)


def test_a_processing_job_runs_to_completed_and_describes_itself(aws):
    aws.s3.put_object(Bucket=BUCKET, Key="raw/data.csv", Body=b"1\n2\n3\n4\n5\n")
    script = put_script(aws.s3, "split.py", SPLIT)
    request = processing_job(
        "split-1",
        script,
        outputs=["train", "test"],
        inputs=[("data", f"s3://{BUCKET}/raw", "/opt/ml/processing/input/data")],
        Environment={"MODE": "fast"},
    )
    arn = aws.sm.create_processing_job(**request)["ProcessingJobArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:000000000000:processing-job/split-1"
    assert aws.sm.describe_processing_job(ProcessingJobName="split-1")["ProcessingJobStatus"] in (
        "InProgress",
        "Completed",
    )

    job = wait_for(describe_processing(aws, "split-1"), "ProcessingJobStatus")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    for key in ("ProcessingResources", "StoppingCondition", "AppSpecification", "Environment"):
        assert job[key] == request[key]
    assert job["RoleArn"] == ROLE and job["ProcessingJobArn"] == arn
    assert job["ProcessingOutputConfig"] == request["ProcessingOutputConfig"]
    assert job["CreationTime"] <= job["ProcessingStartTime"] <= job["ProcessingEndTime"]
    assert job["LastModifiedTime"] >= job["ProcessingEndTime"]
    assert all(job[k].tzinfo is not None for k in ("CreationTime", "ProcessingEndTime"))
    assert "Tags" not in job and "FailureReason" not in job

    train = aws.s3.get_object(Bucket=BUCKET, Key="split-1/train/train.csv")["Body"].read()
    test = aws.s3.get_object(Bucket=BUCKET, Key="split-1/test/test.csv")["Body"].read()
    assert (train, test) == (b"1\n2\n3\n", b"4\n5\n")
    # a job started outside a pipeline keeps its folders under <home>/jobs/<job-name>/
    logs = aws.home / "jobs" / "split-1" / "logs"
    assert (logs / "stdout.log").read_text() == "splitting 5 rows\n"
    assert (aws.home / "jobs" / "split-1" / "container" / "opt" / "ml" / "processing").is_dir()


def test_a_failing_script_fails_the_job_with_its_error(aws):
    aws.sm.create_processing_job(**processing_job("crash", put_script(aws.s3, "crash.py", CRASH)))
    job = wait_for(describe_processing(aws, "crash"), "ProcessingJobStatus")
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(
        "AlgorithmError: the processing script exited with code 1"
    )
    assert "ValueError: the data is wrong" in job["FailureReason"]
    assert job["ProcessingEndTime"] >= job["ProcessingStartTime"]


def test_stop_ends_a_running_job_as_stopped(aws):
    aws.sm.create_processing_job(**processing_job("sleepy", put_script(aws.s3, "sleep.py", SLEEP)))
    stdout = aws.home / "jobs" / "sleepy" / "logs" / "stdout.log"
    wait_for(
        lambda: {"s": stdout.is_file() and "sleeping" in stdout.read_text()}, "s", until=(True,)
    )

    aws.sm.stop_processing_job(ProcessingJobName="sleepy")
    assert aws.sm.describe_processing_job(ProcessingJobName="sleepy")["ProcessingJobStatus"] in (
        "Stopping",
        "Stopped",
    )
    job = wait_for(describe_processing(aws, "sleepy"), "ProcessingJobStatus", timeout=15)
    assert job["ProcessingJobStatus"] == "Stopped" and "FailureReason" not in job
    pid = int(stdout.read_text().split()[1])
    with pytest.raises(ProcessLookupError):  # the script was ended, not left running
        os.kill(pid, 0)

    with pytest.raises(ClientError, match="is Stopped and cannot be stopped"):
        aws.sm.stop_processing_job(ProcessingJobName="sleepy")


def test_a_training_job_past_its_max_runtime_is_stopped_and_keeps_its_model(aws):
    train = b"""
import os, time
open(os.path.join(os.environ["SM_MODEL_DIR"], "partial.txt"), "w").write("saved early")
print("saved", flush=True)
time.sleep(60)
"""
    from tests.smlocal.builders import tarball

    aws.s3.put_object(Bucket=BUCKET, Key="src/sourcedir.tar.gz", Body=tarball({"train.py": train}))
    request = training_job(
        "slow-training",
        image="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        HyperParameters={
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": f'"s3://{BUCKET}/src/sourcedir.tar.gz"',
        },
        StoppingCondition={"MaxRuntimeInSeconds": 1},
    )
    aws.sm.create_training_job(**request)
    job = wait_for(
        lambda: aws.sm.describe_training_job(TrainingJobName="slow-training"),
        "TrainingJobStatus",
        timeout=20,
    )
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")
    statuses = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert statuses == ["Starting", "Downloading", "Training", "MaxRuntimeExceeded"]
    assert aws.s3.head_object(Bucket=BUCKET, Key="models/slow-training/output/model.tar.gz")


def test_list_filters_sorts_and_pages(aws):
    ok = put_script(aws.s3, "ok.py", "print('ok')\n")
    crash = put_script(aws.s3, "crash.py", CRASH)
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    for name, script in (("alpha-1", ok), ("beta-2", crash), ("alpha-3", ok)):
        aws.sm.create_processing_job(**processing_job(name, script))
    for name in ("alpha-1", "beta-2", "alpha-3"):
        wait_for(describe_processing(aws, name), "ProcessingJobStatus")

    def names(**filters):
        summaries = aws.sm.list_processing_jobs(**filters)["ProcessingJobSummaries"]
        return [s["ProcessingJobName"] for s in summaries]

    assert names() == ["alpha-1", "beta-2", "alpha-3"]  # by creation time, oldest first
    assert names(NameContains="ALPHA") == ["alpha-1", "alpha-3"]
    assert names(StatusEquals="Failed") == ["beta-2"]
    assert names(SortBy="Name", SortOrder="Descending") == ["beta-2", "alpha-3", "alpha-1"]
    assert names(CreationTimeAfter=before) == names()
    assert names(CreationTimeBefore=before) == []
    first = aws.sm.list_processing_jobs(MaxResults=2)
    assert len(first["ProcessingJobSummaries"]) == 2
    rest = aws.sm.list_processing_jobs(MaxResults=2, NextToken=first["NextToken"])
    assert [s["ProcessingJobName"] for s in rest["ProcessingJobSummaries"]] == ["alpha-3"]
    assert "NextToken" not in rest
    failed = aws.sm.list_processing_jobs(StatusEquals="Failed")["ProcessingJobSummaries"][0]
    assert (
        failed["ProcessingJobStatus"] == "Failed" and "the data is wrong" in failed["FailureReason"]
    )
    assert aws.sm.list_training_jobs()["TrainingJobSummaries"] == []


def test_job_names_are_unique_per_kind_and_missing_jobs_are_named(aws):
    script = put_script(aws.s3, "ok.py", "print('ok')\n")
    aws.sm.create_processing_job(**processing_job("Twice", script))
    with pytest.raises(aws.sm.exceptions.ResourceInUse, match="already exists"):
        aws.sm.create_processing_job(**processing_job("twice", script))
    wait_for(describe_processing(aws, "TWICE"), "ProcessingJobStatus")  # names ignore case
    with pytest.raises(ClientError, match="Could not find requested job with name nope") as err:
        aws.sm.describe_training_job(TrainingJobName="nope")
    assert err.value.response["Error"]["Code"] == "ValidationException"


@pytest.mark.parametrize(
    "operation,request_,named",
    [
        (
            "create_processing_job",
            processing_job(
                "p",
                "s3://b/code/s.py",
                ProcessingResources={
                    "ClusterConfig": {
                        "InstanceCount": 2,
                        "InstanceType": "ml.m5.xlarge",
                        "VolumeSizeInGB": 30,
                    }
                },
                ProcessingInputs=[
                    {
                        "InputName": "rows",
                        "S3Input": {
                            "S3Uri": "s3://b/rows/",
                            "LocalPath": "/opt/ml/processing/rows",
                            "S3DataType": "S3Prefix",
                            "S3InputMode": "File",
                            "S3DataDistributionType": "ShardedByS3Key",
                        },
                    }
                ],
            ),
            "InstanceCount 2 with inputs sharded by S3 key",
        ),
        (
            "create_processing_job",
            processing_job("p", "s3://b/code/s.py", AppSpecification={"ImageUri": "my-image:1"}),
            "without ContainerEntrypoint",
        ),
        (
            "create_training_job",
            training_job(
                "t",
                AlgorithmSpecification={
                    "TrainingImage": XGB_IMAGE,
                    "TrainingInputMode": "File",
                    "ContainerArguments": ["--verbose"],
                },
            ),
            r"ContainerArguments .*the image's own program runs",
        ),
        (
            "create_training_job",
            training_job("t", TensorBoardOutputConfig={"S3OutputPath": "s3://b/tb"}),
            "TensorBoardOutputConfig",
        ),
        (
            "create_training_job",
            training_job(
                "t", OutputDataConfig={"S3OutputPath": "s3://b/o", "CompressionType": "NONE"}
            ),
            "CompressionType 'NONE'",
        ),
        (
            "create_training_job",
            training_job(
                "t",
                AlgorithmSpecification={"TrainingImage": XGB_IMAGE, "TrainingInputMode": "Pipe"},
            ),
            "TrainingInputMode 'Pipe'",
        ),
        (
            "create_transform_job",
            {
                "TransformJobName": "x",
                "ModelName": "no-such-model",
                "TransformInput": {
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/i"}}
                },
                "TransformOutput": {"S3OutputPath": "s3://b/o"},
                "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
            },
            "Could not find model",
        ),
    ],
)
def test_what_cannot_run_the_same_here_is_refused_by_name(aws, operation, request_, named):
    with pytest.raises(ClientError, match=named) as err:
        getattr(aws.sm, operation)(**request_)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_the_sdks_training_defaults_are_accepted(aws):
    """What ``Estimator.fit()`` sends besides the job itself: accepted, no effect here."""
    aws.s3.put_object(Bucket=BUCKET, Key="train/train.csv", Body=b"1,1\n2,2\n3,3\n4,4\n")
    request = training_job(
        "with-defaults",
        HyperParameters={"num_round": "2"},
        InputDataConfig=[
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/train"}
                },
            }
        ],
        DebugHookConfig={"S3OutputPath": f"s3://{BUCKET}/", "CollectionConfigurations": []},
        ProfilerConfig={"S3OutputPath": f"s3://{BUCKET}/", "DisableProfiler": False},
        ProfilerRuleConfigurations=[
            {
                "RuleConfigurationName": "ProfilerReport-1",
                "RuleEvaluatorImage": "503895931360.dkr.ecr.us-east-1.amazonaws.com/sagemaker-debugger-rules:latest",
                "RuleParameters": {"rule_to_invoke": "ProfilerReport"},
            }
        ],
        Environment={},
        EnableManagedSpotTraining=False,
        EnableNetworkIsolation=False,
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    aws.sm.create_training_job(**request)
    job = wait_for(
        lambda: aws.sm.describe_training_job(TrainingJobName="with-defaults"), "TrainingJobStatus"
    )
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["DebugHookConfig"] == request["DebugHookConfig"]
    assert job["ProfilerRuleConfigurations"] == request["ProfilerRuleConfigurations"]
    assert job["EnableManagedSpotTraining"] is False and "Tags" not in job
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == (
        f"s3://{BUCKET}/models/with-defaults/output/model.tar.gz"
    )
    assert [m["MetricName"] for m in job["FinalMetricDataList"]] == ["train:rmse"]
    assert job["TrainingTimeInSeconds"] >= 1 and job["BillableTimeInSeconds"] == 0


def test_a_pipeline_steps_job_is_a_job_like_any_other(client):
    """A step creates its job through the same runner: listed, described, logs in the step's folder."""
    script = put_store_script(client.backend.store, "hello.py", "print('hello from a step')\n")
    arn, status, steps = run(client, definition(processing("Hello", script)))
    assert status["PipelineExecutionStatus"] == "Succeeded", steps
    (summary,) = client.list_processing_jobs()["ProcessingJobSummaries"]
    name = summary["ProcessingJobName"]
    assert name.startswith(f"pipelines-{arn.rsplit('/', 1)[-1]}-Hello-")
    assert steps["Hello"]["Metadata"]["ProcessingJob"]["Arn"] == summary["ProcessingJobArn"]
    job = client.describe_processing_job(ProcessingJobName=name)
    assert job["ProcessingJobStatus"] == "Completed"
    step_folder = client.backend.home / "executions" / arn.rsplit("/", 1)[-1] / "Hello"
    assert (step_folder / "logs" / "stdout.log").read_text() == "hello from a step\n"
    assert not (client.backend.home / "jobs").exists()
