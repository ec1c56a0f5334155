"""codebuild-buildspec.yml: the template's phases, and its build commands run against moto."""

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import yaml

from tests.helpers import NO_NETWORK_DIR, ROOT

SPEC = yaml.safe_load((ROOT / "codebuild-buildspec.yml").read_text())


def test_install_phase():
    install = SPEC["phases"]["install"]
    assert install["runtime-versions"] == {"python": 3.11}
    assert install["commands"] == ['pip install --upgrade --force-reinstall . "awscli>1.20.30"']


def test_build_commands_run_the_pipeline_against_the_api(moto_server, tmp_path):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="project-artifacts")
    env = dict(os.environ)
    env.update(
        {
            "SAGEMAKER_PROJECT_NAME": "abalone-project",
            "SAGEMAKER_PROJECT_ID": "p-abc123",
            "SAGEMAKER_PIPELINE_ROLE_ARN": "arn:aws:iam::123456789012:role/service-role/PipelinesRole",
            "ARTIFACT_BUCKET": "project-artifacts",
            "AWS_REGION": "us-east-1",
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]]),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(NO_NETWORK_DIR), str(ROOT)])),
            "NO_NETWORK_LOG": str(tmp_path / "network.log"),
        }
    )
    script = "set -e\n" + "\n".join(SPEC["phases"]["build"]["commands"])
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "Create/Update of the SageMaker Pipeline and execution completed." in result.stdout
    sm = boto3.client("sagemaker", region_name="us-east-1")
    pipeline = sm.describe_pipeline(PipelineName="abalone-project-p-abc123")
    assert pipeline["RoleArn"] == env["SAGEMAKER_PIPELINE_ROLE_ARN"]
    definition = json.loads(pipeline["PipelineDefinition"])
    register = definition["Steps"][3]["Arguments"]["IfSteps"][0]["Arguments"]
    assert register["ModelPackageGroupName"] == "abalone-project-p-abc123"
    train = definition["Steps"][1]["Arguments"]
    assert (
        train["OutputDataConfig"]["S3OutputPath"]
        == "s3://project-artifacts/abalone-project-p-abc123/AbaloneTrain"
    )
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=pipeline["PipelineArn"])["Tags"]}
    assert (
        tags["sagemaker:project-name"] == "abalone-project"
        and tags["sagemaker:project-id"] == "p-abc123"
    )
    assert not (tmp_path / "network.log").exists()
