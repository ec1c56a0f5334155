"""Small hand-written definitions, built the way the SDK writes them."""

import io
import json
import tarfile
import textwrap

from botocore.exceptions import ClientError

from smlocal.store import ObjectStore

BUCKET = "test-bucket"
ROLE = "arn:aws:iam::000000000000:role/Test"


def put_script(store: ObjectStore, name: str, source: str) -> str:
    uri = f"s3://{BUCKET}/code/{name}"
    store.put_bytes(uri, textwrap.dedent(source).encode())
    return uri


def output_uri(step: str, output: str):
    return {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3:/",
                BUCKET,
                "P",
                {"Get": "Execution.PipelineExecutionId"},
                step,
                "output",
                output,
            ],
        }
    }


def processing(name, code_uri, inputs=(), outputs=(), arguments=(), **extra):
    """inputs: (S3Uri or expression, container path); outputs: output names under /opt/ml/processing."""
    script = code_uri.rsplit("/", 1)[-1]
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceType": "ml.m5.xlarge",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 30,
                }
            },
            "AppSpecification": {
                "ImageUri": "image",
                "ContainerEntrypoint": ["python3", f"/opt/ml/processing/input/code/{script}"],
                **({"ContainerArguments": list(arguments)} if arguments else {}),
            },
            "RoleArn": ROLE,
            "ProcessingInputs": [
                {
                    "InputName": f"input-{i}",
                    "S3Input": {
                        "S3Uri": uri,
                        "LocalPath": path,
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                    },
                }
                for i, (uri, path) in enumerate(inputs)
            ]
            + [
                {
                    "InputName": "code",
                    "S3Input": {
                        "S3Uri": code_uri,
                        "LocalPath": "/opt/ml/processing/input/code",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                    },
                }
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": o,
                        "S3Output": {
                            "S3Uri": output_uri(name, o),
                            "LocalPath": f"/opt/ml/processing/{o}",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                    for o in outputs
                ]
            },
        },
        **extra,
    }


def output_of(step: str, output: str):
    return {"Get": f"Steps.{step}.ProcessingOutputConfig.Outputs['{output}'].S3Output.S3Uri"}


def definition(*steps, parameters=()):
    return json.dumps(
        {"Version": "2020-12-01", "Parameters": list(parameters), "Steps": list(steps)}
    )


def run(client, definition_json, name="P", parameters=None, timeout=120):
    try:
        client.create_pipeline(PipelineName=name, PipelineDefinition=definition_json, RoleArn=ROLE)
    except ClientError as err:
        assert "already exists" in err.response["Error"]["Message"]
        client.update_pipeline(PipelineName=name, PipelineDefinition=definition_json, RoleArn=ROLE)
    kwargs = {"PipelineName": name}
    if parameters:
        kwargs["PipelineParameters"] = [{"Name": k, "Value": str(v)} for k, v in parameters.items()]
    arn = client.start_pipeline_execution(**kwargs)["PipelineExecutionArn"]
    client.backend.wait(arn, timeout=timeout)
    status = client.describe_pipeline_execution(PipelineExecutionArn=arn)
    steps = {
        s["StepName"]: s
        for s in client.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
            "PipelineExecutionSteps"
        ]
    }
    return arn, status, steps


def tarball(files: dict) -> bytes:
    """A .tar.gz of {name: bytes}."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()
