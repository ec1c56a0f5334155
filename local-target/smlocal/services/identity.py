"""STS and IAM: who the caller is, locally -- one account, one execution role.

The SDK's ``get_execution_role()`` asks STS for the caller (an assumed role) and IAM for that
role's ARN; both answer with the local role, so the idiom works unchanged.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from smlocal import config
from smlocal.services.base import Service, ServiceError

_CREATED = datetime(2024, 1, 1, tzinfo=timezone.utc)


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
        if RoleName != config.LOCAL_ROLE_NAME:
            raise ServiceError(
                "NoSuchEntity",
                f"The role with name {RoleName} cannot be found (the local target has one role, "
                f"{config.LOCAL_ROLE_NAME}).",
                status=404,
            )
        return {
            "Role": {
                "Path": "/",
                "RoleName": RoleName,
                "RoleId": f"AROA{config.ACCOUNT_ID}LOCAL",
                "Arn": config.LOCAL_ROLE_ARN,
                "CreateDate": _CREATED,
                "Description": "The role every job of the local target runs as.",
            }
        }
