"""Who is at fault, as SageMaker says it: the user's data or code is a ClientError, never retried.

Only the local target's own faults are ``InternalError`` (``Step.SERVICE_FAULT``), which a
RetryPolicy retries; a step failing on the user's data runs once, whatever its policies say.
"""

import os

import pytest

from smlocal.errors import StepFailed
from smlocal.sources import DataSources
from smlocal.store import ObjectStore
from tests.smlocal.builders import BUCKET, definition, processing, put_script, run, tarball

RETRY_EVERYTHING = [
    {
        "ExceptionType": ["Step.SERVICE_FAULT", "SageMaker.JOB_INTERNAL_ERROR"],
        "IntervalSeconds": 0,
        "MaxAttempts": 3,
    }
]
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def training_step(source_uri: str) -> dict:
    """A script-mode training step whose source is the archive at ``source_uri``."""
    return {
        "Name": "Train",
        "Type": "Training",
        "RetryPolicies": RETRY_EVERYTHING,
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File"},
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models"},
            "ResourceConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 30,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
            "RoleArn": "arn:aws:iam::000000000000:role/Test",
            "HyperParameters": {
                "sagemaker_program": '"train.py"',
                "sagemaker_submit_directory": f'"{source_uri}"',
            },
        },
    }


def failed_once(client, *steps) -> str:
    _, status, listed = run(client, definition(*steps))
    assert status["PipelineExecutionStatus"] == "Failed"
    (step,) = [s for s in listed.values() if s["StepStatus"] == "Failed"]
    assert step["AttemptCount"] == 1, step  # a RetryPolicy for service faults did not fire
    return step["FailureReason"]


def test_a_source_archive_leading_out_of_its_folder_is_the_users_fault(client, tmp_path):
    client.backend.store.put_bytes(
        f"s3://{BUCKET}/src/sourcedir.tar.gz",
        tarball({"train.py": b"print('hi')\n", "../../../../slipped.txt": b"out"}),
    )
    reason = failed_once(client, training_step(f"s3://{BUCKET}/src/sourcedir.tar.gz"))
    assert reason.startswith("ClientError: sourcedir.tar.gz cannot be unpacked: ")
    assert "slipped.txt" in reason
    assert not any(p.name == "slipped.txt" for p in client.backend.home.rglob("slipped.txt"))


def test_a_source_that_is_not_an_archive_is_the_users_fault(client):
    client.backend.store.put_bytes(f"s3://{BUCKET}/src/sourcedir.tar.gz", b"not a tar at all")
    reason = failed_once(client, training_step(f"s3://{BUCKET}/src/sourcedir.tar.gz"))
    assert reason.startswith("ClientError: sourcedir.tar.gz cannot be unpacked")


def test_an_input_that_cannot_be_read_is_the_users_fault(client, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "rows.csv").write_text("1,2\n")
    os.mkfifo(folder / "pipe")  # no file to copy: as unreadable as a file without rights
    script = put_script(client.backend.store, "s.py", "print('ran')\n")
    step = processing(
        "Read",
        script,
        inputs=[(str(folder), "/opt/ml/processing/in")],
        RetryPolicies=RETRY_EVERYTHING,
    )
    reason = failed_once(client, step)
    assert reason.startswith(f"ClientError: input {str(folder)!r} cannot be read: ")
    assert "pipe" in reason


def test_a_nul_byte_in_an_input_key_is_the_users_fault(client):
    script = put_script(client.backend.store, "s.py", "print('ran')\n")
    step = processing(
        "Read",
        script,
        inputs=[(f"s3://{BUCKET}/in\0put", "/opt/ml/processing/in")],
        RetryPolicies=RETRY_EVERYTHING,
    )
    reason = failed_once(client, step)
    assert reason.startswith("ClientError: a NUL byte cannot be part of a bucket or key")


def test_an_unreadable_input_is_refused_with_its_uri(tmp_path):
    """Reading is the user's side; a full disk while copying is this machine's and goes on."""
    sources = DataSources(ObjectStore(tmp_path / "s3"), tmp_path / "datasets")
    source = tmp_path / "folder"
    source.mkdir()
    os.mkfifo(source / "fifo")
    with pytest.raises(StepFailed) as raised:
        sources.fetch(str(source), tmp_path / "dest")
    assert raised.value.kind is None and str(raised.value).startswith("ClientError: input")

    def full_disk(uri, dest):
        raise OSError(28, "No space left on device")

    sources._fetch = full_disk
    with pytest.raises(OSError, match="No space left"):
        sources.fetch(str(source), tmp_path / "dest")


def test_the_local_targets_own_fault_is_still_a_service_fault(client, monkeypatch):
    """An error of the local target's own (not the user's) stays retryable, as SageMaker's."""
    from smlocal.jobs.processing import ProcessingJobKind

    calls = []

    def broken(self, ctx):
        calls.append(1)
        raise RuntimeError("a bug of the local target")

    monkeypatch.setattr(ProcessingJobKind, "run", broken)
    script = put_script(client.backend.store, "s.py", "print('ran')\n")
    _, status, steps = run(
        client, definition(processing("Step", script, RetryPolicies=RETRY_EVERYTHING))
    )
    assert steps["Step"]["FailureReason"].startswith("InternalError: RuntimeError: a bug")
    assert steps["Step"]["AttemptCount"] == 4 and len(calls) == 4
