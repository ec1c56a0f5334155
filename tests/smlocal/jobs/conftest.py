"""Fixtures of the job tests: boto3's clients on the local target, a bucket to work in."""

from types import SimpleNamespace

import boto3
import pytest

from tests.smlocal.jobs.requests import BUCKET


@pytest.fixture
def aws(on_local_target):
    """SageMaker, S3 and CloudWatch Logs clients answered locally; ``home`` is the state folder."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return SimpleNamespace(
        sm=boto3.client("sagemaker"), s3=s3, logs=boto3.client("logs"), home=on_local_target
    )
