"""Sessions, role and code location for a pipeline module, on SageMaker or on the local target.

Plain SDK idioms: nothing here knows about the local target, which answers the AWS API
itself when it is on (``--local`` on the CLIs, or ``PIPELINES_TARGET=local``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Optional

import boto3

import smlocal
from smlocal import sdk as _sdk

# Where SageMaker notebooks and Studio keep the metadata get_execution_role() relies on.
SAGEMAKER_METADATA_FILE = "/opt/ml/metadata/resource-metadata.json"


class MissingRoleError(ValueError):
    """No IAM role was given and none can be found."""


def is_local() -> bool:
    """True when the local target answers this process's AWS calls."""
    return smlocal.enabled()


def get_sagemaker_client(region: str):
    """A SageMaker API client (the local target's answers it when that is on)."""
    return boto3.Session(region_name=region).client("sagemaker")


def get_session(region: str, default_bucket: Optional[str] = None):
    """A SageMaker session in ``region``."""
    import sagemaker.session

    _sdk.validate_config_once()
    boto_session = boto3.Session(region_name=region)
    return sagemaker.session.Session(
        boto_session=boto_session,
        sagemaker_client=boto_session.client("sagemaker"),
        sagemaker_runtime_client=boto_session.client("sagemaker-runtime"),
        default_bucket=default_bucket,
    )


def get_pipeline_session(region: str, default_bucket: Optional[str] = None):
    """A PipelineSession in ``region``."""
    from sagemaker.workflow.pipeline_context import PipelineSession

    _sdk.validate_config_once()
    boto_session = boto3.Session(region_name=region)
    return PipelineSession(
        boto_session=boto_session,
        sagemaker_client=boto_session.client("sagemaker"),
        default_bucket=default_bucket,
    )


def resolve_role(role: Optional[str], session) -> str:
    """The execution role, or a clear error saying how to pass one.

    The template called ``get_execution_role()``, which outside SageMaker fails with an
    error about "the current AWS identity is not a role". It still does where it works: in
    SageMaker notebooks and Studio, and on the local target (whose identity is its role).
    """
    if role:
        return role
    env_role = os.environ.get("SAGEMAKER_PIPELINE_ROLE_ARN")
    if env_role:
        return env_role
    if is_local() or os.path.exists(SAGEMAKER_METADATA_FILE):
        import sagemaker.session

        return sagemaker.session.get_execution_role(session)
    raise MissingRoleError(
        "no IAM role for the pipeline's jobs: pass role='arn:aws:iam::<account>:role/<name>' "
        'to get_pipeline (CLI: --kwargs \'{"role": "arn:..."}\'), or set '
        "SAGEMAKER_PIPELINE_ROLE_ARN; or run on the local target with --local"
    )


def upload_source_dir(session, folder: str, pipeline_name: str) -> str:
    """Pack a framework source folder as ``sourcedir.tar.gz``, upload it under its content hash.

    Given to an estimator or model as ``source_dir``, the S3 URI keeps the SDK from uploading
    the folder under a timestamped name: the definition stays the same from run to run.
    """
    from smlocal.artifacts import pack_folder

    body = pack_folder(Path(folder))
    digest = hashlib.sha256(body).hexdigest()
    bucket = session.default_bucket()
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "sourcedir.tar.gz"
        archive.write_bytes(body)
        return session.upload_data(
            str(archive), bucket=bucket, key_prefix=f"{pipeline_name}/code/{digest}"
        )


def upload_code(session, path: str, pipeline_name: str) -> str:
    """Upload a step script under a content hash and return its S3 URI.

    The SDK names uploaded code by a hash that includes the script's absolute path, so two
    checkouts give two definitions; hashing the content alone keeps definitions identical.
    """
    body = Path(path).read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    bucket = session.default_bucket()
    key_prefix = f"{pipeline_name}/code/{digest}"
    return session.upload_data(path, bucket=bucket, key_prefix=key_prefix)
