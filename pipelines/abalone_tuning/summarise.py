"""The Lambda function of the tuning pipeline: checks the best model's artifact, reports it.

Runs on AWS Lambda (or the local target's Lambda): the event is the step's inputs; the
returned keys are the step's outputs (``ModelUri``, ``Rmse``, ``ModelBytes``).
"""

from urllib.parse import urlparse

import boto3


def lambda_handler(event, context):
    """Look the best trial's model.tar.gz up in S3; fail the step if it is not there."""
    uri = urlparse(event["model_uri"])
    head = boto3.client("s3").head_object(Bucket=uri.netloc, Key=uri.path.lstrip("/"))
    print(
        f"best training job {event['best_job']}: {event['model_uri']} ({head['ContentLength']} bytes)"
    )
    return {
        "ModelUri": event["model_uri"],
        "Rmse": float(event["rmse"]),
        "ModelBytes": head["ContentLength"],
    }
