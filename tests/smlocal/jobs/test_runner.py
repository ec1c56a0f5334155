"""The job runner's guarantees that no single API call shows: other processes, retries, crashes."""

import signal
import subprocess
import sys
import textwrap

import pytest

from smlocal import config, services
from smlocal.jobs import JobRunner
from tests.smlocal.builders import tarball
from tests.smlocal.jobs.requests import (
    BUCKET,
    SKLEARN_IMAGE,
    processing_job,
    put_script,
    training_job,
)
from tests.smlocal.jobs.requests import wait_for

SLEEP = """
import time
print("sleeping", flush=True)
time.sleep(60)
"""
# Killed by a signal it did not ask for the first time (as by the OOM killer), fine the second.
KILLED_ONCE = b"""
import os, signal
marker = os.path.join(os.environ["SM_MODEL_DIR"], "..", "..", "..", "..", "attempted")
if not os.path.exists(marker):
    open(marker, "w").close()
    os.kill(os.getpid(), signal.SIGKILL)
print("second attempt")
"""


@pytest.fixture
def backend(aws):
    return services.get("sagemaker", "us-east-1").backend


def another_process(backend) -> JobRunner:
    """A runner on the same state, as another process has: it knows no job running here."""
    return JobRunner(
        backend.home, backend.region, config.ACCOUNT_ID, backend.store, None, backend.models
    )


def test_a_stop_asked_by_another_process_reaches_the_job(aws, backend):
    aws.sm.create_processing_job(**processing_job("far", put_script(aws.s3, "s.py", SLEEP)))
    stdout = aws.home / "jobs" / "far" / "logs" / "stdout.log"
    wait_for(
        lambda: {"s": stdout.is_file() and "sleeping" in stdout.read_text()}, "s", until=(True,)
    )

    other = another_process(backend)
    other.stop("Processing", "far")
    assert other.wait("Processing", "far").status == "Stopped"


def test_a_job_whose_process_died_is_failed_not_left_in_progress(aws):
    """Jobs run in the process that created them; if it dies, Describe says so."""
    script = put_script(aws.s3, "s.py", "import time; time.sleep(3)\n")
    creator = textwrap.dedent(f"""
        import os, signal, boto3, smlocal
        with smlocal.local_target(home={str(aws.home)!r}):
            boto3.client("sagemaker").create_processing_job(**{processing_job("orphan", script)!r})
        os.kill(os.getpid(), signal.SIGKILL)
        """)
    assert subprocess.run([sys.executable, "-c", creator]).returncode == -signal.SIGKILL
    job = aws.sm.describe_processing_job(ProcessingJobName="orphan")
    assert job["ProcessingJobStatus"] == "Failed"
    assert "the process running this job ended before the job finished" in job["FailureReason"]


def test_retry_strategy_runs_a_killed_training_job_again(aws):
    aws.s3.put_object(
        Bucket=BUCKET, Key="src/sourcedir.tar.gz", Body=tarball({"train.py": KILLED_ONCE})
    )
    hyperparameters = {
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": f'"s3://{BUCKET}/src/sourcedir.tar.gz"',
    }
    for name, retry in (("no-retry", None), ("one-retry", {"MaximumRetryAttempts": 1})):
        extra = {"RetryStrategy": retry} if retry else {}
        aws.sm.create_training_job(
            **training_job(name, image=SKLEARN_IMAGE, HyperParameters=hyperparameters, **extra)
        )
        job = wait_for(
            lambda: aws.sm.describe_training_job(TrainingJobName=name), "TrainingJobStatus"
        )
        if retry:
            assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
            assert job["RetryStrategy"] == retry
            log = aws.home / "jobs" / name / "logs" / "stdout.log"
            assert log.read_text() == "second attempt\n"
        else:
            assert job["TrainingJobStatus"] == "Failed"
            assert job["FailureReason"].startswith(
                "InternalServerError: the training job process was killed by SIGKILL"
            )
