"""Deployment on approval (the project's ModelDeploy half): an approved model version to an endpoint.

The same boto3 calls on SageMaker and on the local target: a model made from the model
package, an endpoint configuration of one variant, then CreateEndpoint, or UpdateEndpoint of
an endpoint this group already serves (the endpoint switches to the new version without a
pause). Everything is checked first (the version is approved, the endpoint is free for this
group, the port is free), and what a failed deployment made is deleted again, so a refusal or
a failure leaves nothing half-created.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Callable, Optional

APPROVED = "Approved"
VARIANT = "AllTraffic"
PORT_TAG = "pipelines-local:port"  # the local target listens where this CreateEndpoint tag says
NAME_LIMIT = 63


class DeployError(Exception):
    """A deployment refused or failed; the message is one line for the user."""


@dataclass
class Deployment:
    """What a deployment did."""

    endpoint: str
    endpoint_arn: str
    group: str
    version: int
    package_arn: str
    model_name: str
    config_name: str
    created: bool  # a new endpoint (else an update in place)
    status: str

    def as_dict(self) -> dict:
        return {
            "EndpointName": self.endpoint,
            "EndpointArn": self.endpoint_arn,
            "ModelPackageGroupName": self.group,
            "ModelPackageVersion": self.version,
            "ModelPackageArn": self.package_arn,
            "ModelName": self.model_name,
            "EndpointConfigName": self.config_name,
            "Action": "created" if self.created else "updated",
            "EndpointStatus": self.status,
        }


def _error(err) -> str:
    response = getattr(err, "response", None) or {}
    return (response.get("Error") or {}).get("Message") or str(err)


def resource_name(group: str, version: int, stamp: Optional[float] = None) -> str:
    """``<group>-<version>-<time>`` within SageMaker's 63 characters and name pattern."""
    stamp = time.time() if stamp is None else stamp
    when = time.strftime("%Y%m%d-%H%M%S", time.gmtime(stamp)) + f"-{int(stamp * 1000) % 1000:03d}"
    suffix = f"-{version}-{when}"
    base = re.sub(r"[^a-zA-Z0-9-]", "-", group).strip("-") or "model"
    return base[: NAME_LIMIT - len(suffix)] + suffix


class Deployer:
    """Deploys model package versions with one SageMaker client."""

    def __init__(
        self,
        client,
        role: str,
        instance_type: str = "ml.m5.large",
        waiter_delay: int = 15,
        progress: Callable[[str], None] = lambda message: None,
    ):
        self.sm = client
        self.role = role
        self.instance_type = instance_type
        self.waiter_delay = waiter_delay
        self.progress = progress

    # what to deploy
    def package(self, group: str, version: Optional[int] = None) -> dict:
        """The version to deploy: ``version``, or the group's latest approved; refused unless approved."""
        try:
            self.sm.describe_model_package_group(ModelPackageGroupName=group)
        except Exception as err:  # noqa: BLE001 - any refusal is the user's one line
            raise DeployError(_error(err)) from None
        summaries, kwargs = [], {"ModelPackageGroupName": group}
        while True:
            page = self.sm.list_model_packages(**kwargs)
            summaries += page.get("ModelPackageSummaryList", [])
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        if version is None:
            approved = [s for s in summaries if s.get("ModelApprovalStatus") == APPROVED]
            if not approved:
                raise DeployError(
                    f"model package group {group!r} has no approved version to deploy"
                )
            chosen = max(approved, key=lambda s: s.get("ModelPackageVersion", 0))
        else:
            chosen = next((s for s in summaries if s.get("ModelPackageVersion") == version), None)
            if chosen is None:
                raise DeployError(f"model package group {group!r} has no version {version}")
        package = self.sm.describe_model_package(ModelPackageName=chosen["ModelPackageArn"])
        if package.get("ModelApprovalStatus") != APPROVED:
            raise DeployError(
                f"version {package['ModelPackageVersion']} of {group!r} is "
                f"{package.get('ModelApprovalStatus')}, not Approved; approve it first "
                f"(model-registry approve {group} {package['ModelPackageVersion']})"
            )
        return package

    def current(self, endpoint: str, group: str) -> Optional[dict]:
        """The endpoint if it exists (and may be updated with this group's versions), else None."""
        try:
            described = self.sm.describe_endpoint(EndpointName=endpoint)
        except Exception as err:  # noqa: BLE001
            if "Could not find" in _error(err) or "not found" in _error(err).lower():
                return None
            raise DeployError(_error(err)) from None
        served = self.served_package(described)
        if served is None or served.split("/")[-2].lower() != group.lower():
            raise DeployError(
                f"endpoint {endpoint!r} is in use by {served or 'a model not from the registry'}, "
                f"not by group {group!r}; choose another endpoint name"
            )
        status = described.get("EndpointStatus")
        if status != "InService":
            reason = f" ({described['FailureReason']})" if described.get("FailureReason") else ""
            raise DeployError(
                f"endpoint {endpoint!r} is {status}{reason}; it can be updated only when InService"
                + ("; delete it first (endpoints stop)" if status == "Failed" else "")
            )
        return {**described, "ServedPackage": served}

    def served_package(self, endpoint: dict) -> Optional[str]:
        """The model package ARN an endpoint serves, if its model was made from one."""
        config = self.sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        model_name = config["ProductionVariants"][0]["ModelName"]
        model = self.sm.describe_model(ModelName=model_name)
        container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
        return container.get("ModelPackageName")

    # deploying
    def deploy(
        self, group: str, endpoint: str, version: Optional[int] = None, port: Optional[int] = None
    ) -> Deployment:
        """Deploy ``version`` (default: the latest approved) of ``group`` to ``endpoint``."""
        package = self.package(group, version)
        number = int(package["ModelPackageVersion"])
        existing = self.current(endpoint, group)
        if existing is not None and port is not None:
            raise DeployError(
                f"endpoint {endpoint!r} exists; --port applies only when an endpoint is created"
            )
        if existing is not None and existing["ServedPackage"] == package["ModelPackageArn"]:
            return Deployment(
                endpoint,
                existing["EndpointArn"],
                group,
                number,
                package["ModelPackageArn"],
                "",
                existing["EndpointConfigName"],
                False,
                "InService",
            )
        name = resource_name(group, number)
        made: list[Callable[[], object]] = []
        try:
            self.progress(f"creating model {name} from {package['ModelPackageArn']}")
            self.sm.create_model(
                ModelName=name,
                ExecutionRoleArn=self.role,
                PrimaryContainer={"ModelPackageName": package["ModelPackageArn"]},
            )
            made.append(lambda: self.sm.delete_model(ModelName=name))
            self.sm.create_endpoint_config(
                EndpointConfigName=name,
                ProductionVariants=[
                    {
                        "VariantName": VARIANT,
                        "ModelName": name,
                        "InitialInstanceCount": 1,
                        "InstanceType": self.instance_type,
                        "InitialVariantWeight": 1.0,
                    }
                ],
            )
            made.append(lambda: self.sm.delete_endpoint_config(EndpointConfigName=name))
            if existing is None:
                self.progress(f"creating endpoint {endpoint}")
                tags = [{"Key": PORT_TAG, "Value": str(port)}] if port is not None else []
                arn = self.sm.create_endpoint(
                    EndpointName=endpoint, EndpointConfigName=name, Tags=tags
                )["EndpointArn"]
                made.append(lambda: self.sm.delete_endpoint(EndpointName=endpoint))
            else:
                self.progress(f"updating endpoint {endpoint} to version {number}")
                arn = self.sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=name)[
                    "EndpointArn"
                ]
            described = self.wait(endpoint)
            if (
                described.get("EndpointConfigName") != name
                or described["EndpointStatus"] != "InService"
            ):
                raise DeployError(
                    f"endpoint {endpoint!r} did not deploy version {number} of {group!r}: "
                    f"{described.get('FailureReason') or described['EndpointStatus']}"
                )
        except Exception as err:
            for undo in reversed(made):
                try:
                    undo()
                except Exception:  # noqa: BLE001 - best effort: the first error is the one to tell
                    pass
            if isinstance(err, DeployError):
                raise
            raise DeployError(_error(err)) from None
        return Deployment(
            endpoint,
            arn,
            group,
            number,
            package["ModelPackageArn"],
            name,
            name,
            existing is None,
            "InService",
        )

    def wait(self, endpoint: str) -> dict:
        """Until the endpoint leaves Creating/Updating; its description."""
        waiter = self.sm.get_waiter("endpoint_in_service")
        try:
            waiter.wait(
                EndpointName=endpoint,
                WaiterConfig={"Delay": self.waiter_delay, "MaxAttempts": 3600 // self.waiter_delay},
            )
        except Exception:  # noqa: BLE001 - Failed: the description says why
            pass
        return self.sm.describe_endpoint(EndpointName=endpoint)
