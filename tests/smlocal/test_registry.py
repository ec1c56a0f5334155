"""The local model registry: groups, versions, approvals, and versions unique under concurrency."""

from concurrent.futures import ThreadPoolExecutor
import multiprocessing

import pytest

from smlocal.registry import ModelRegistry, RegistryError

REQUEST = {
    "ModelPackageGroupName": "Group",
    "InferenceSpecification": {
        "Containers": [{"Image": "img", "ModelDataUrl": "s3://b/model.tar.gz"}],
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"],
    },
    "ModelMetrics": {
        "ModelQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/eval.json"}
        }
    },
}


@pytest.fixture
def registry(tmp_path):
    return ModelRegistry(tmp_path / "state.sqlite", "us-east-1", "000000000000")


def test_versions_increase_per_group(registry):
    registry.create_model_package_group("Group", "abalone models")
    first = registry.create_model_package(REQUEST)
    second = registry.create_model_package(
        {**REQUEST, "ModelApprovalStatus": "Approved"}, created_by_execution="arn:exec"
    )
    assert (first["ModelPackageVersion"], second["ModelPackageVersion"]) == (1, 2)
    assert (
        first["ModelPackageArn"] == "arn:aws:sagemaker:us-east-1:000000000000:model-package/group/1"
    )
    assert first["ModelApprovalStatus"] == "PendingManualApproval"
    assert second["ModelApprovalStatus"] == "Approved"
    assert second["MetadataProperties"]["GeneratedBy"] == "arn:exec"
    assert second["InferenceSpecification"] == REQUEST["InferenceSpecification"]
    assert second["ModelMetrics"] == REQUEST["ModelMetrics"]


def test_describe_by_arn_or_group_and_version(registry):
    created = registry.create_model_package(REQUEST, create_group=True)
    assert registry.describe_model_package(created["ModelPackageArn"])["ModelPackageVersion"] == 1
    assert (
        registry.describe_model_package("Group/1")["ModelPackageArn"] == created["ModelPackageArn"]
    )
    with pytest.raises(RegistryError, match="does not exist"):
        registry.describe_model_package("Group/9")


def test_approval_updates_and_filters(registry):
    registry.create_model_package(REQUEST, create_group=True)
    registry.create_model_package(REQUEST)
    registry.update_model_package("Group/2", "Approved", "good enough")
    approved = registry.list_model_packages("Group", "Approved")
    assert [p["ModelPackageVersion"] for p in approved] == [2]
    assert approved[0]["ApprovalDescription"] == "good enough"
    with pytest.raises(RegistryError, match="not one of"):
        registry.update_model_package("Group/1", "Maybe")


def test_group_rules(registry):
    with pytest.raises(RegistryError, match="does not exist"):
        registry.create_model_package(REQUEST)
    registry.create_model_package_group("Group")
    with pytest.raises(RegistryError, match="already exists"):
        registry.create_model_package_group("Group")
    assert [g["ModelPackageGroupName"] for g in registry.list_model_package_groups()] == ["Group"]


def test_concurrent_registrations_get_unique_versions(registry):
    registry.create_model_package_group("Group")
    with ThreadPoolExecutor(8) as pool:
        versions = list(
            pool.map(
                lambda _: registry.create_model_package(REQUEST)["ModelPackageVersion"], range(24)
            )
        )
    assert sorted(versions) == list(range(1, 25))


def _register_from_another_process(path):
    registry = ModelRegistry(path, "us-east-1", "000000000000")
    return [registry.create_model_package(REQUEST)["ModelPackageVersion"] for _ in range(5)]


def test_registrations_from_several_processes_get_unique_versions(registry, tmp_path):
    registry.create_model_package_group("Group")
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        versions = sum(
            pool.map(_register_from_another_process, [tmp_path / "state.sqlite"] * 3), []
        )
    assert sorted(versions) == list(range(1, 16))
