"""The model registry: model package groups and their versions."""

from __future__ import annotations

from smlocal.services.sagemaker.base import _operation


class RegistryAPI:
    # model registry
    @_operation("CreateModelPackageGroup")
    def create_model_package_group(self, **kwargs) -> dict:
        return self.backend.registry.create_model_package_group(
            kwargs["ModelPackageGroupName"], kwargs.get("ModelPackageGroupDescription")
        )

    @_operation("DescribeModelPackageGroup")
    def describe_model_package_group(self, **kwargs) -> dict:
        return self.backend.registry.describe_model_package_group(kwargs["ModelPackageGroupName"])

    @_operation("ListModelPackageGroups")
    def list_model_package_groups(self, **kwargs) -> dict:
        prefix = kwargs.get("NameContains") or ""
        groups = [
            g
            for g in self.backend.registry.list_model_package_groups()
            if prefix in g["ModelPackageGroupName"]
        ]
        return {"ModelPackageGroupSummaryList": groups}

    @_operation("CreateModelPackage")
    def create_model_package(self, **kwargs) -> dict:
        package = self.backend.registry.create_model_package(kwargs)
        return {"ModelPackageArn": package["ModelPackageArn"]}

    @_operation("DescribeModelPackage")
    def describe_model_package(self, **kwargs) -> dict:
        return self.backend.registry.describe_model_package(kwargs["ModelPackageName"])

    @_operation("ListModelPackages")
    def list_model_packages(self, **kwargs) -> dict:
        packages = self.backend.registry.list_model_packages(
            kwargs.get("ModelPackageGroupName"), kwargs.get("ModelApprovalStatus")
        )
        if kwargs.get("SortOrder") == "Ascending":
            packages = list(reversed(packages))
        keys = (
            "ModelPackageName",
            "ModelPackageGroupName",
            "ModelPackageVersion",
            "ModelPackageArn",
            "ModelPackageDescription",
            "CreationTime",
            "ModelPackageStatus",
            "ModelApprovalStatus",
        )
        return {"ModelPackageSummaryList": [{k: p[k] for k in keys if k in p} for p in packages]}

    @_operation("UpdateModelPackage")
    def update_model_package(self, **kwargs) -> dict:
        return self.backend.registry.update_model_package(
            kwargs["ModelPackageArn"],
            kwargs.get("ModelApprovalStatus"),
            kwargs.get("ApprovalDescription"),
        )
