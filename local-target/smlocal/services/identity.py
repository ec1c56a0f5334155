"""STS and IAM: who the caller is, locally -- one account, one execution role.

The SDK's ``get_execution_role()`` asks STS for the caller (an assumed role) and IAM for that
role's ARN; both answer with the local role, so the idiom works unchanged. SDK 3.x checks a
role before it uses it (IAM's policy simulator and the role's trust policy): the local role
trusts SageMaker and may do everything, as every local job runs as it.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from smlocal import config
from smlocal.services.base import Service, ServiceError

_CREATED = datetime(2024, 1, 1, tzinfo=timezone.utc)
# The services that assume an execution role: SageMaker's jobs, and EventBridge Scheduler's
# pipeline schedules.
_TRUSTED = ["sagemaker.amazonaws.com", "scheduler.amazonaws.com"]
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": _TRUSTED}, "Action": "sts:AssumeRole"}
    ],
}


class STSService(Service):
    name = "sts"

    def __init__(self, home: Path, region: str):
        self.region = region

    def get_caller_identity(self) -> dict:
        return {
            "UserId": f"AROA{config.ACCOUNT_ID}LOCAL:local-session",
            "Account": config.ACCOUNT_ID,
            "Arn": f"arn:aws:sts::{config.ACCOUNT_ID}:assumed-role/{config.LOCAL_ROLE_NAME}/local-session",
        }


class IAMService(Service):
    name = "iam"

    def __init__(self, home: Path, region: str):
        self.region = region

    def get_role(self, RoleName: str) -> dict:  # noqa: N803 - boto3's names
        _known(RoleName)
        return {
            "Role": {
                "Path": "/",
                "RoleName": RoleName,
                "RoleId": f"AROA{config.ACCOUNT_ID}LOCAL",
                "Arn": config.LOCAL_ROLE_ARN,
                "CreateDate": _CREATED,
                "Description": "The role every job of the local target runs as.",
                # IAM returns the document URL-encoded; boto3 hands it back decoded
                "AssumeRolePolicyDocument": json.dumps(TRUST_POLICY),
            }
        }

    def simulate_principal_policy(
        self, PolicySourceArn: str, ActionNames: list, **_ignored  # noqa: N803 - boto3's names
    ) -> dict:
        """Every action is allowed to the local role (the local target checks no permissions)."""
        _known(PolicySourceArn.rsplit("/", 1)[-1])
        return {
            "EvaluationResults": [
                {"EvalActionName": action, "EvalResourceName": "*", "EvalDecision": "allowed"}
                for action in ActionNames
            ],
            "IsTruncated": False,
        }


def _known(name: str) -> None:
    if name != config.LOCAL_ROLE_NAME:
        raise ServiceError(
            "NoSuchEntity",
            f"The role with name {name} cannot be found (the local target has one role, "
            f"{config.LOCAL_ROLE_NAME}).",
            status=404,
        )
