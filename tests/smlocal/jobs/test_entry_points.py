"""Entry points of any kind run as their containers would run them (the namespace layout).

``FrameworkProcessor`` ships a generated ``runproc.sh`` (run with ``/bin/bash``: unpack the
source, ``pip install -r requirements.txt``, run the entry point); a ``ScriptProcessor`` may
run any command; a script-mode estimator's source may bring a ``requirements.txt``. Installs go
to the image's environment.
"""

import io
import tarfile
import textwrap

import pytest

from smlocal.containers import environments
from tests.smlocal.jobs.requests import BUCKET, SKLEARN_IMAGE, training_job, wait_for
from tests.smlocal.jobs.wheels import make_wheel

USES_THE_REQUIREMENT = """
import os
import sourcedep
os.makedirs("/opt/ml/processing/out", exist_ok=True)
open("/opt/ml/processing/out/value.txt", "w").write(sourcedep.VALUE)
"""
SHELL_SCRIPT = """
set -e
ls /opt/ml/processing/input/code > /opt/ml/processing/out/listing.txt
python3 -c "import sys; print(sys.prefix)" > /opt/ml/processing/out/python.txt
echo "$1" > /opt/ml/processing/out/argument.txt
"""
TRAIN_WITH_REQUIREMENT = """
import os
import sourcedep
print("trained with", sourcedep.VALUE)
open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write(sourcedep.VALUE)
"""


@pytest.fixture
def sdk(aws, monkeypatch):
    import sagemaker

    monkeypatch.setenv("PIPELINES_LOCAL_CONTAINER", "namespaces")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("PIP_NO_WARN_CONFLICTS", "1")  # pip's check of every installed package
    return sagemaker.session.Session(), sagemaker.get_execution_role()


def source_folder(tmp_path, entry_point: str, source: str):
    """A source folder with a local wheel named in its requirements.txt (no network needed)."""
    folder = tmp_path / "source"
    folder.mkdir()
    (folder / entry_point).write_text(textwrap.dedent(source))
    wheel = make_wheel(folder, "sourcedep", value="from requirements.txt")
    (folder / "requirements.txt").write_text(f"--no-index\n./{wheel.name}\n")
    return folder


def read(aws, key: str) -> str:
    return aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()


def test_a_framework_processor_installs_its_requirements_and_runs_its_entry_point(
    aws, sdk, tmp_path
):
    from sagemaker.processing import FrameworkProcessor, ProcessingOutput
    from sagemaker.sklearn.estimator import SKLearn

    session, role = sdk
    processor = FrameworkProcessor(
        estimator_cls=SKLearn,
        framework_version="1.2-1",
        role=role,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=session,
    )
    processor.run(
        code="process.py",
        source_dir=str(source_folder(tmp_path, "process.py", USES_THE_REQUIREMENT)),
        outputs=[
            ProcessingOutput(
                source="/opt/ml/processing/out", destination=f"s3://{BUCKET}/framework/out"
            )
        ],
        wait=False,
        logs=False,
    )
    name = processor.latest_job.job_name
    job = wait_for(
        lambda: aws.sm.describe_processing_job(ProcessingJobName=name), "ProcessingJobStatus"
    )
    assert job["AppSpecification"]["ContainerEntrypoint"][0] == "/bin/bash"
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert read(aws, "framework/out/value.txt") == "from requirements.txt"
    (listed,) = environments.listing(aws.home)
    environment = environments.Environment(aws.home / "environments" / listed["name"])
    assert "sourcedep" in environment.own_packages()


def test_a_script_processor_runs_a_shell_command_in_the_images_environment(aws, sdk, tmp_path):
    from sagemaker.processing import ProcessingOutput, ScriptProcessor

    session, role = sdk
    script = tmp_path / "run.sh"
    script.write_text(textwrap.dedent(SHELL_SCRIPT))
    processor = ScriptProcessor(
        command=["bash"],
        image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/tools:1",
        role=role,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=session,
    )
    processor.run(
        code=str(script),
        arguments=["hello"],
        outputs=[
            ProcessingOutput(
                source="/opt/ml/processing/out", destination=f"s3://{BUCKET}/shell/out"
            )
        ],
        wait=False,
        logs=False,
    )
    name = processor.latest_job.job_name
    job = wait_for(
        lambda: aws.sm.describe_processing_job(ProcessingJobName=name), "ProcessingJobStatus"
    )
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert read(aws, "shell/out/listing.txt") == "run.sh\n"
    assert read(aws, "shell/out/argument.txt") == "hello\n"
    (listed,) = environments.listing(aws.home)
    assert read(aws, "shell/out/python.txt").strip() == str(
        aws.home / "environments" / listed["name"]
    )


def test_a_script_mode_estimator_installs_its_sources_requirements(aws, sdk, tmp_path):
    from sagemaker.sklearn.estimator import SKLearn

    session, role = sdk
    estimator = SKLearn(
        entry_point="train.py",
        source_dir=str(source_folder(tmp_path, "train.py", TRAIN_WITH_REQUIREMENT)),
        framework_version="1.2-1",
        role=role,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=session,
        output_path=f"s3://{BUCKET}/models",
    )
    estimator.fit(wait=False)
    name = estimator.latest_training_job.name
    job = wait_for(
        lambda: aws.sm.describe_training_job(TrainingJobName=name), "TrainingJobStatus", timeout=120
    )
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    log = (aws.home / "jobs" / name / "logs" / "stdout.log").read_text()
    assert "trained with from requirements.txt" in log


def test_a_training_jobs_own_entry_point_runs_in_place_of_the_images_program(aws, monkeypatch):
    """SDK 3.x's ModelTrainer sends ``/bin/bash -c <its driver>``: it runs as it is, from ``/``."""
    monkeypatch.setenv("PIPELINES_LOCAL_CONTAINER", "namespaces")
    aws.s3.put_object(Bucket=BUCKET, Key="rows/part.csv", Body=b"1,2\n3,4\n")
    command = (
        "cat /opt/ml/input/data/rows/part.csv > /opt/ml/model/rows.csv && pwd > /opt/ml/model/cwd "
        '&& echo "$TRAINING_JOB_NAME $1" > /opt/ml/model/job'
    )
    aws.sm.create_training_job(
        **training_job(
            "own-entry",
            SKLEARN_IMAGE,
            AlgorithmSpecification={
                "TrainingImage": SKLEARN_IMAGE,
                "TrainingInputMode": "File",
                "ContainerEntrypoint": ["/bin/bash"],
                "ContainerArguments": ["-c", command, "bash", "argument"],
            },
            InputDataConfig=[
                {
                    "ChannelName": "rows",
                    "DataSource": {
                        "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/rows"}
                    },
                }
            ],
        )
    )
    job = wait_for(
        lambda: aws.sm.describe_training_job(TrainingJobName="own-entry"), "TrainingJobStatus"
    )
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    model = job["ModelArtifacts"]["S3ModelArtifacts"]
    archive = aws.s3.get_object(Bucket=BUCKET, Key=model.split(f"{BUCKET}/", 1)[1])["Body"]
    with tarfile.open(fileobj=io.BytesIO(archive.read())) as members:
        files = {
            m.name.removeprefix("./"): members.extractfile(m).read() for m in members if m.isfile()
        }
    assert files == {"rows.csv": b"1,2\n3,4\n", "cwd": b"/\n", "job": b"own-entry argument\n"}
