"""Create*Job requests as boto3 users write them, and waiting for a job the way a user would."""

import textwrap
import time

BUCKET = "jobs-bucket"
ROLE = "arn:aws:iam::000000000000:role/LocalPipelineExecutionRole"
XGB_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
FINAL = ("Completed", "Failed", "Stopped")


def put_script(s3, name: str, source: str) -> str:
    s3.put_object(Bucket=BUCKET, Key=f"code/{name}", Body=textwrap.dedent(source).encode())
    return f"s3://{BUCKET}/code/{name}"


def processing_job(name: str, script_uri: str, outputs=(), inputs=(), **extra) -> dict:
    """A processing job running ``script_uri`` with python3; outputs under /opt/ml/processing."""
    script = script_uri.rsplit("/", 1)[-1]
    return {
        "ProcessingJobName": name,
        "RoleArn": ROLE,
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 30,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        "AppSpecification": {
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", f"/opt/ml/processing/input/code/{script}"],
        },
        "ProcessingInputs": [
            {
                "InputName": name_,
                "S3Input": {
                    "S3Uri": uri,
                    "LocalPath": path,
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
            for name_, uri, path in [*inputs, ("code", script_uri, "/opt/ml/processing/input/code")]
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": output,
                    "S3Output": {
                        "S3Uri": f"s3://{BUCKET}/{name}/{output}",
                        "LocalPath": f"/opt/ml/processing/{output}",
                        "S3UploadMode": "EndOfJob",
                    },
                }
                for output in outputs
            ]
        },
        **extra,
    }


def training_job(name: str, image: str = XGB_IMAGE, **extra) -> dict:
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models"},
        "ResourceConfig": {
            "InstanceCount": 1,
            "InstanceType": "ml.m5.xlarge",
            "VolumeSizeInGB": 30,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        **extra,
    }


def wait_for(describe, status_key: str, timeout: float = 60, until=FINAL) -> dict:
    """Describe until the job's status is one of ``until``; the last description."""
    deadline = time.monotonic() + timeout
    while True:
        description = describe()
        if description[status_key] in until:
            return description
        assert time.monotonic() < deadline, f"still {description[status_key]} after {timeout} s"
        time.sleep(0.05)
