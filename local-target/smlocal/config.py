"""Where the local target keeps its state, and the fixed identities it runs under."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "PIPELINES_LOCAL_HOME"
TARGET_ENV = "PIPELINES_TARGET"

ACCOUNT_ID = "000000000000"
DEFAULT_REGION = "us-east-1"
LOCAL_ROLE_NAME = "LocalPipelineExecutionRole"
LOCAL_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{LOCAL_ROLE_NAME}"


def arn(region: str, account: str, resource: str, name: str) -> str:
    """A SageMaker resource ARN; SageMaker lower-cases the name part."""
    return f"arn:aws:sagemaker:{region}:{account}:{resource}/{name.lower()}"


def home() -> Path:
    """The one folder holding the object store, the state database and execution logs."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser().resolve()
    return Path.home() / ".pipelines-local"


def default_bucket(region: str) -> str:
    """The bucket the local session uses where SageMaker would use sagemaker-{region}-{account}."""
    return f"sagemaker-{region}-{ACCOUNT_ID}"


def requested() -> bool:
    """True when the environment asks for the local target (``PIPELINES_TARGET=local``)."""
    return os.environ.get(TARGET_ENV, "").strip().lower() == "local"
