"""A step never changes the user's Python environment: its image's environment takes its installs.

Each image gets a virtual environment of its own under the state folder, with the user's
packages visible behind it; a script's ``pip install`` lands there, stays for the image's next
jobs, and is not seen by the user or by other images.
"""

import json
import subprocess
import sys

import pytest

from smlocal.containers import environments
from tests.smlocal.jobs.requests import BUCKET, SKLEARN_IMAGE, processing_job, put_script, wait_for
from tests.smlocal.jobs.wheels import make_wheel

INSTALLS = """
import glob, subprocess, sys
pip = ["pip"] if sys.argv[1] == "pip" else [sys.executable, "-m", "pip"]  # either way a script may
quick = ["-q", "--no-index", "--no-deps", "--no-warn-conflicts"]  # offline, no checks of the rest
subprocess.run(pip + ["install", *quick, *glob.glob("/opt/ml/processing/input/wheels/*")], check=True)
import stepdep
print(stepdep.VALUE)
"""
IMPORTS = """
import stepdep
print("still there:", stepdep.VALUE)
"""


def user_freeze() -> str:
    return subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True
    ).stdout


def run_job(aws, name, source, image=SKLEARN_IMAGE, inputs=(), arguments=()):
    script = put_script(aws.s3, f"{name}.py", source)
    request = processing_job(name, script, inputs=inputs)
    request["AppSpecification"]["ImageUri"] = image
    if arguments:
        request["AppSpecification"]["ContainerArguments"] = list(arguments)
    aws.sm.create_processing_job(**request)
    return wait_for(
        lambda: aws.sm.describe_processing_job(ProcessingJobName=name), "ProcessingJobStatus"
    )


@pytest.mark.parametrize("mechanism,pip", [("namespaces", "pip"), ("map", "python -m pip")])
def test_a_steps_pip_install_lands_in_its_images_environment_not_the_users(
    aws, tmp_path, monkeypatch, mechanism, pip
):
    monkeypatch.setenv("PIPELINES_LOCAL_CONTAINER", mechanism)
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    wheel = make_wheel(tmp_path, "stepdep")
    aws.s3.upload_file(str(wheel), BUCKET, f"wheels/{wheel.name}")
    wheels = [("wheels", f"s3://{BUCKET}/wheels", "/opt/ml/processing/input/wheels")]
    before = user_freeze()

    job = run_job(aws, "installs", INSTALLS, inputs=wheels, arguments=[pip.split()[0]])
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert (aws.home / "jobs" / "installs" / "logs" / "stdout.log").read_text() == "installed\n"

    assert user_freeze() == before
    assert subprocess.run([sys.executable, "-c", "import stepdep"]).returncode != 0
    (listed,) = environments.listing(aws.home)
    assert listed["image"] == SKLEARN_IMAGE and listed["user_environment"] == sys.prefix
    image_environment = environments.Environment(aws.home / "environments" / listed["name"])
    assert "stepdep" in image_environment.own_packages()

    again = run_job(aws, "imports-again", IMPORTS)  # the image's next job has it
    assert again["ProcessingJobStatus"] == "Completed", again.get("FailureReason")
    record = json.loads((aws.home / "jobs" / "imports-again" / "logs" / "process.json").read_text())
    assert (
        record["launcher"] == "spawn"
    )  # the fork server's imports are the user's, not the image's
    other = run_job(
        aws, "other-image", IMPORTS, image="123.dkr.ecr.us-east-1.amazonaws.com/other:1"
    )
    assert other["ProcessingJobStatus"] == "Failed"
    assert "No module named 'stepdep'" in other["FailureReason"]


def test_environments_are_listed_and_cleared_from_the_command_line(tmp_path):
    home = tmp_path / "home"
    made = environments.ensure(home, SKLEARN_IMAGE)
    assert made.path.parent == home / "environments"
    assert (made.bin / "pip").is_file() and made.python.exists()
    env = {"PIPELINES_LOCAL_HOME": str(home), "PATH": "/usr/bin:/bin"}

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "smlocal.containers.environments", *args],
            capture_output=True,
            text=True,
            env=env,
        )

    listed = cli("list")
    assert listed.returncode == 0, listed.stderr
    assert made.path.name in listed.stdout and SKLEARN_IMAGE in listed.stdout
    cleared = cli("clear")
    assert cleared.stdout == f"removed {made.path.name}\n"
    assert not made.path.exists()
