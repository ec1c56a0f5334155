"""model-registry: the same commands on the local registry and on SageMaker's (moto)."""

import json

import boto3
import pytest

from pipelines.model_registry import compare, flatten_metrics, lower_is_better, Version
from tests.helpers import LocalSageMaker, run_cli

pytestmark = pytest.mark.heavy  # scheduled first (tests/conftest.py)

GROUP = "AbalonePackageGroup"
BUCKET = "reports"


def _package(mse, status, execution):
    uri = f"s3://{BUCKET}/evaluation/{execution}/evaluation.json"
    request = {
        "ModelPackageGroupName": GROUP,
        "ModelApprovalStatus": status,
        "InferenceSpecification": {
            "Containers": [
                {
                    "Image": "123.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                    "ModelDataUrl": f"s3://{BUCKET}/model/{execution}/model.tar.gz",
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        "ModelMetrics": {
            "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": uri}}
        },
    }
    report = {
        "regression_metrics": {
            "mse": {"value": mse, "standard_deviation": 2.0},
            "r2": {"value": 1 - mse / 10},
        }
    }
    return request, uri, json.dumps(report).encode()


PACKAGES = [
    (5.1, "Approved", "exec1"),
    (4.8, "PendingManualApproval", "exec2"),
    (5.4, "Rejected", "exec3"),
]


@pytest.fixture(params=["local", "sagemaker"])
def backend(request, local_home):
    """A registry with three versions, on the local target or on moto; yields CLI flags and env."""
    if request.param == "local":
        client = LocalSageMaker(local_home)
        client.create_model_package_group(ModelPackageGroupName=GROUP)
        for mse, status, execution in PACKAGES:
            package, uri, body = _package(mse, status, execution)
            client.backend.store.put_bytes(uri, body)
            client.backend.registry.create_model_package(
                package,
                created_by_execution=f"arn:aws:sagemaker:us-east-1:000000000000:pipeline/p/execution/{execution}",
            )
        yield ["--local"], {}
        return
    moto = request.getfixturevalue("moto_server")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    sm = boto3.client("sagemaker", region_name="us-east-1")
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    for mse, status, execution in PACKAGES:
        package, uri, body = _package(mse, status, execution)
        s3.put_object(Bucket=BUCKET, Key=uri.split("/", 3)[3], Body=body)
        sm.create_model_package(
            **package,
            MetadataProperties={
                "GeneratedBy": f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/{execution}"
            },
        )
    yield [], {"AWS_ENDPOINT_URL": moto.url}


def registry(backend, *args):
    flags, env = backend
    return run_cli(["pipelines.model_registry", *flags, *args], env=env, no_network=True)


def test_list_groups_and_versions(backend):
    result = registry(backend, "--output", "json", "list")
    assert result.returncode == 0, result.stderr
    (group,) = json.loads(result.stdout)
    assert group["ModelPackageGroupName"] == GROUP and group["Versions"] == 3
    assert group["LatestVersion"] == 3 and group["LatestApprovedVersion"] == 1

    result = registry(backend, "list", GROUP, "--output", "json")
    versions = json.loads(result.stdout)
    assert [
        (v["ModelPackageVersion"], v["ModelApprovalStatus"], v["Metrics"]["mse"]) for v in versions
    ] == [(3, "Rejected", 5.4), (2, "PendingManualApproval", 4.8), (1, "Approved", 5.1)]
    assert versions[0]["CreatedByExecution"].endswith("/execution/exec3")

    table = registry(backend, "list", GROUP).stdout.splitlines()
    assert table[0].split() == ["version", "status", "mse", "r2", "created", "execution"]
    assert (
        table[2].split()[:4] == ["3", "Rejected", "5.4000", "0.4600"]
        and table[2].split()[-1] == "exec3"
    )


def test_compare_marks_the_best_and_the_difference_to_approved(backend):
    result = registry(backend, "compare", GROUP, "--output", "json")
    assert result.returncode == 0, result.stderr
    comparison = json.loads(result.stdout)
    assert comparison["LatestApprovedVersion"] == 1
    assert comparison["Best"] == {"mse": 2, "r2": 2}
    rows = {r["ModelPackageVersion"]: r["Metrics"]["mse"] for r in comparison["Versions"]}
    assert rows[2]["vs_latest_approved"] == pytest.approx(-0.3) and rows[2]["best"]
    assert rows[1]["vs_latest_approved"] == 0

    table = registry(backend, "compare", GROUP, "1", "2").stdout
    assert "mse (lower is better)" in table and "r2 (higher is better)" in table
    assert "4.8000 *" in table and "-0.3000" in table and "5.4000" not in table


def test_compare_chosen_versions_against_the_approved_one_left_out(backend):
    result = registry(backend, "compare", GROUP, "2", "3", "--output", "json")
    assert result.returncode == 0, result.stderr
    comparison = json.loads(result.stdout)
    assert comparison["LatestApprovedVersion"] == 1
    assert [r["ModelPackageVersion"] for r in comparison["Versions"]] == [3, 2]
    rows = {r["ModelPackageVersion"]: r["Metrics"]["mse"] for r in comparison["Versions"]}
    assert rows[2]["vs_latest_approved"] == pytest.approx(-0.3)
    assert rows[3]["vs_latest_approved"] == pytest.approx(0.3)

    table = registry(backend, "compare", GROUP, "2", "3").stdout
    assert "the latest approved version (1)" in table and "none is approved" not in table


def test_describe(backend):
    result = registry(backend, "describe", GROUP, "2", "--output", "json")
    described = json.loads(result.stdout)
    assert described["ModelPackageVersion"] == 2 and described["Metrics"]["mse"] == 4.8
    assert described["MetricsUri"] == f"s3://{BUCKET}/evaluation/exec2/evaluation.json"


def test_approve_and_reject(backend):
    result = registry(backend, "approve", GROUP, "2", "--description", "best so far")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"version 2 of {GROUP} is now Approved"
    listed = json.loads(registry(backend, "list", GROUP, "--output", "json").stdout)
    assert {v["ModelPackageVersion"]: v["ModelApprovalStatus"] for v in listed}[2] == "Approved"
    comparison = json.loads(registry(backend, "compare", GROUP, "--output", "json").stdout)
    assert comparison["LatestApprovedVersion"] == 2
    assert (
        registry(backend, "reject", GROUP, "1").stdout.strip()
        == f"version 1 of {GROUP} is now Rejected"
    )


def test_errors_are_one_line(backend):
    for args, message in [
        (["list", "NoSuchGroup"], "NoSuchGroup"),
        (["describe", GROUP, "9"], "has no version 9"),
        (["approve", GROUP, "1"], "version 1 of 'AbalonePackageGroup' is already Approved"),
    ]:
        result = registry(backend, *args)
        assert result.returncode == 1, (args, result.stdout)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, result.stderr)
    bad = registry(backend, "describe", GROUP, "two")
    assert bad.returncode == 2 and "invalid int value" in bad.stderr


def test_without_credentials_says_so():
    result = run_cli(["pipelines.model_registry", "list"], no_network=True)
    assert result.returncode == 2 and "--local" in result.stderr


def test_metric_helpers():
    assert flatten_metrics(
        {"binary_classification_metrics": {"accuracy": {"value": 0.9}, "auc": {"value": 0.8}}}
    ) == {"accuracy": 0.9, "auc": 0.8}
    assert (
        lower_is_better("mse")
        and lower_is_better("validation:rmse")
        and not lower_is_better("accuracy")
    )
    versions = [
        Version("g", 1, "a1", "Rejected", None, None, None, {"accuracy": 0.7}),
        Version("g", 2, "a2", "Approved", None, None, None, {"accuracy": 0.9}),
    ]
    assert compare(versions)["Best"] == {"accuracy": 2}


def test_a_nan_metric_is_never_the_best():
    nan = float("nan")
    versions = [
        Version("g", 1, "a1", "Approved", None, None, None, {"mse": nan, "accuracy": nan}),
        Version("g", 2, "a2", "Approved", None, None, None, {"mse": 4.0, "accuracy": 0.8}),
        Version("g", 3, "a3", "Approved", None, None, None, {"mse": 5.0, "accuracy": 0.7}),
    ]
    assert compare(versions)["Best"] == {"accuracy": 2, "mse": 2}
    only_nan = [Version("g", 1, "a1", "Approved", None, None, None, {"mse": nan})]
    assert compare(only_nan)["Best"] == {"mse": None}
