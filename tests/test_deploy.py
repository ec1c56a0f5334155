"""Deployment on approval: register -> approve -> deploy -> predict, updates, lineage, refusals.

The abalone pipeline runs once on the local target (version 1, pending approval, as
CodeBuild's run would register it); a second version trained on the same split is registered
approved. The CLIs run as a user runs them, in their own processes: an endpoint they create
outlives them until it is stopped.
"""

import glob
import io
import json
import socket
import tarfile
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import boto3
import numpy as np
import pytest
import xgboost

import smlocal
from smlocal.endpoints import local_url, stop_all
from tests.helpers import ABALONE_SHA256, run_cli
from tests.smlocal.endpoints.helpers import Clients, server_processes

pytestmark = pytest.mark.heavy  # scheduled first (tests/conftest.py)

GROUP = "AbalonePackageGroup"
BUCKET = "deploy-tests"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::000000000000:role/LocalPipelineExecutionRole"


def tarball(files: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def cli(home, module, *args):
    return run_cli([module, "--local", *args], env={"PIPELINES_LOCAL_HOME": str(home)})


def post(url: str, rows: list[str]) -> list[str]:
    request = urllib.request.Request(url, data="\n".join(rows).encode(), method="POST")
    request.add_header("Content-Type", "text/csv")
    with urllib.request.urlopen(request, timeout=30) as reply:
        return reply.read().decode().split()


@pytest.fixture(scope="module")
def abalone(tmp_path_factory):
    """The abalone pipeline run once (version 1, pending), and version 2 registered approved."""
    home = tmp_path_factory.mktemp("deploy-home")
    with smlocal.local_target(home=home):
        import sagemaker

        from pipelines.abalone.pipeline import get_pipeline

        role = sagemaker.get_execution_role()
        pipeline = get_pipeline("us-east-1", role=role)
        pipeline.upsert(role_arn=role)
        execution = pipeline.start()
        execution.wait()
        assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"
        s3 = glob.glob(str(home / "s3" / "*" / "AbalonePipeline" / "*" / "PreprocessAbaloneData"))
        split = Path(s3[0]) / "output"
        train = np.loadtxt(split / "train" / "train.csv", delimiter=",")
        test_rows = (split / "test" / "test.csv").read_text().splitlines()[:5]
        features = [row.split(",", 1)[1] for row in test_rows]  # the label is first
        booster = xgboost.train(
            {"objective": "reg:squarederror", "max_depth": 3},
            xgboost.DMatrix(train[:, 1:], label=train[:, 0]),
            10,
        )
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        boto3.client("s3").put_object(
            Bucket=BUCKET,
            Key="v2/model.tar.gz",
            Body=tarball({"xgboost-model": bytes(booster.save_raw(raw_format="ubj"))}),
        )
        sm = boto3.client("sagemaker")
        v1 = sm.describe_model_package(ModelPackageName=f"{GROUP}/1")
        sm.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus="Approved",
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/v2/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )
    yield SimpleNamespace(home=home, features=features, v1=v1, v2_booster=booster)
    stop_all(home)
    assert server_processes(home) == []


def batch_transform(sm, s3, container: dict, rows: list[str]) -> list[str]:
    """Batch transform of ``rows`` with the model of ``container``; one prediction per row."""
    s3.put_object(Bucket=BUCKET, Key="batch/rows.csv", Body=("\n".join(rows) + "\n").encode())
    sm.create_model(
        ModelName="abalone-batch",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": container["Image"], "ModelDataUrl": container["ModelDataUrl"]},
    )
    sm.create_transform_job(
        TransformJobName="abalone-batch",
        ModelName="abalone-batch",
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/batch/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": f"s3://{BUCKET}/batch-out", "AssembleWith": "Line"},
        TransformResources={"InstanceCount": 1, "InstanceType": "ml.m5.large"},
    )
    sm.get_waiter("transform_job_completed_or_stopped").wait(TransformJobName="abalone-batch")
    body = s3.get_object(Bucket=BUCKET, Key="batch-out/rows.csv.out")["Body"].read()
    return body.decode().split()


def test_register_approve_deploy_predict_as_batch_transform_does(abalone):
    result = cli(
        abalone.home, "pipelines.model_registry", "approve", GROUP, "1", "--deploy", "abalone"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"version 1 of {GROUP} is now Approved"
    assert lines[1] == f"endpoint abalone created: serves version 1 of {GROUP}"
    url = local_url("abalone", home=abalone.home)
    assert lines[2] == f"URL: {url}"

    # the endpoint outlived the CLI that made it: predict over HTTP, as curl would
    served = post(url, abalone.features)
    with smlocal.local_target(home=abalone.home):
        sm, s3 = boto3.client("sagemaker"), boto3.client("s3")
        batch = batch_transform(
            sm, s3, abalone.v1["InferenceSpecification"]["Containers"][0], abalone.features
        )
        transform = sm.describe_trial_component(
            TrialComponentName="abalone-batch-aws-transform-job"
        )  # the batch job's lineage: its model and data in, its predictions out
    assert set(transform["InputArtifacts"]) == {"input", "model"}
    assert transform["OutputArtifacts"]["output"]["Value"] == f"s3://{BUCKET}/batch-out"
    assert len(served) == len(abalone.features)
    assert served == batch  # the same predictions, to the last digit

    listed = json.loads(cli(abalone.home, "pipelines.endpoints", "list", "--output", "json").stdout)
    assert [(e["EndpointName"], e["EndpointStatus"], e["Url"]) for e in listed] == [
        ("abalone", "InService", url)
    ]


def test_an_update_to_a_newer_approved_version_fails_no_request(abalone):
    with smlocal.local_target(home=abalone.home):
        sm = boto3.client("sagemaker")
        sm.update_model_package(
            ModelPackageArn=abalone.v1["ModelPackageArn"], ModelApprovalStatus="Approved"
        )
        first = cli(abalone.home, "pipelines.endpoints", "deploy", GROUP, "live", "--version", "1")
        assert first.returncode == 0, first.stderr
        expected = float(
            abalone.v2_booster.predict(
                xgboost.DMatrix(np.array([[float(v) for v in abalone.features[0].split(",")]]))
            )[0]
        )
        with Clients("live", abalone.features[0], home=abalone.home) as clients:
            time.sleep(0.5)
            update = cli(abalone.home, "pipelines.endpoints", "deploy", GROUP, "live")
            time.sleep(1.5)
        assert update.returncode == 0, update.stderr
        assert (
            update.stdout.splitlines()[0] == f"endpoint live updated: serves version 2 of {GROUP}"
        )
        assert clients.failures == []
        for kind, answers in clients.answers.items():
            assert answers and answers[-1] == pytest.approx(expected), kind
        config = sm.describe_endpoint_config(
            EndpointConfigName=sm.describe_endpoint(EndpointName="live")["EndpointConfigName"]
        )
        assert config["ProductionVariants"][0]["ModelName"].startswith(f"{GROUP}-2-")


def test_lineage_query_from_the_model_package_reaches_the_input_data_set(abalone):
    from sagemaker.lineage.query import (
        LineageEntityEnum,
        LineageFilter,
        LineageQuery,
        LineageQueryDirectionEnum,
        LineageSourceEnum,
    )

    with smlocal.local_target(home=abalone.home):
        import sagemaker

        query = LineageQuery(sagemaker.Session())
        upstream = query.query(
            start_arns=[abalone.v1["ModelPackageArn"]],
            direction=LineageQueryDirectionEnum.ASCENDANTS,
            query_filter=LineageFilter(
                entities=[LineageEntityEnum.ARTIFACT], sources=[LineageSourceEnum.DATASET]
            ),
        )
        data_sets = {v.to_lineage_object().source.source_uri: v for v in upstream.vertices}
        source = "s3://sagemaker-servicecatalog-seedcode-us-east-1/dataset/abalone-dataset.csv"
        assert source in data_sets
        artifact = data_sets[source].to_lineage_object()
        assert artifact.source.source_types == [
            {"SourceIdType": "Custom", "Value": f"sha256:{ABALONE_SHA256}"}
        ]
        jobs = query.query(
            start_arns=[abalone.v1["ModelPackageArn"]],
            direction=LineageQueryDirectionEnum.ASCENDANTS,
            query_filter=LineageFilter(entities=[LineageEntityEnum.TRIAL_COMPONENT]),
        )
        assert sorted(v.lineage_source for v in jobs.vertices) == ["ProcessingJob", "TrainingJob"]

    # version 1 approved and served, whichever tests ran before on this worker
    with smlocal.local_target(home=abalone.home):
        boto3.client("sagemaker").update_model_package(
            ModelPackageArn=abalone.v1["ModelPackageArn"], ModelApprovalStatus="Approved"
        )
    deployed = cli(abalone.home, "pipelines.endpoints", "deploy", GROUP, "traced", "--version", "1")
    assert deployed.returncode == 0, deployed.stderr
    result = cli(abalone.home, "pipelines.model_registry", "lineage", GROUP, "1")
    assert result.returncode == 0, result.stderr
    table = result.stdout
    assert table.splitlines()[0] == f"lineage of version 1 of {GROUP} (Approved)"
    order = [line.split()[1] for line in table.splitlines()[3:]]
    for earlier, later in [
        ("DataSet", "ProcessingJob"),
        ("ProcessingJob", "TrainingJob"),
        ("TrainingJob", "Model"),
        ("Model", "ModelPackage"),
        ("ModelPackage", "ModelDeployment"),
        ("ModelDeployment", "Endpoint"),
    ]:
        assert order.index(earlier) < order.index(later), (earlier, later, table)
    assert f"sha256:{ABALONE_SHA256[:12]}" in table
    endpoints = [
        line.split()[2:5] for line in table.splitlines() if line.split()[1:2] == ["Endpoint"]
    ]
    assert ["traced", "InService", local_url("traced", home=abalone.home)] in endpoints


# bad input: one line each, nothing half-created
@pytest.fixture
def registry(local_home):
    """A group with version 1 approved, 2 pending, 3 approved but unloadable."""
    rng = np.random.default_rng(3)
    features = rng.normal(size=(40, 3))
    booster = xgboost.train({}, xgboost.DMatrix(features, label=features.sum(axis=1)), 5)
    with smlocal.local_target(home=local_home):
        s3, sm = boto3.client("s3"), boto3.client("sagemaker")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(
            Bucket=BUCKET,
            Key="good/model.tar.gz",
            Body=tarball({"xgboost-model": bytes(booster.save_raw(raw_format="ubj"))}),
        )
        s3.put_object(Bucket=BUCKET, Key="broken/model.tar.gz", Body=tarball({"README": b"no"}))
        sm.create_model_package_group(ModelPackageGroupName="Small")
        for status, data in [
            ("Approved", "good"),
            ("PendingManualApproval", "good"),
            ("Approved", "broken"),
        ]:
            sm.create_model_package(
                ModelPackageGroupName="Small",
                ModelApprovalStatus=status,
                InferenceSpecification={
                    "Containers": [
                        {"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/{data}/model.tar.gz"}
                    ],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
            )
    yield local_home
    stop_all(local_home)
    assert server_processes(local_home) == []


def resources(home) -> dict:
    with smlocal.local_target(home=home):
        sm = boto3.client("sagemaker")
        return {
            "models": sorted(m["ModelName"] for m in sm.list_models()["Models"]),
            "configs": sorted(
                c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]
            ),
            "endpoints": sorted(e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]),
            "status of 2": sm.describe_model_package(ModelPackageName="Small/2")[
                "ModelApprovalStatus"
            ],
        }


def refused(result, message: str) -> None:
    assert result.returncode == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_deploying_a_version_that_is_not_approved_is_refused(registry):
    before = resources(registry)
    refused(
        cli(registry, "pipelines.endpoints", "deploy", "Small", "new", "--version", "2"),
        "version 2 of 'Small' is PendingManualApproval, not Approved; approve it first",
    )
    refused(
        cli(registry, "pipelines.endpoints", "deploy", "Nothing", "new"), "Nothing does not exist"
    )
    assert resources(registry) == before


def test_an_endpoint_name_in_use_is_refused(registry):
    with smlocal.local_target(home=registry):  # an endpoint of a model not from the registry
        sm = boto3.client("sagemaker")
        sm.create_model(
            ModelName="hand-made",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/good/model.tar.gz"},
        )
        sm.create_endpoint_config(
            EndpointConfigName="hand-made",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "hand-made",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
        )
        sm.create_endpoint(EndpointName="taken", EndpointConfigName="hand-made")
    before = resources(registry)
    refused(
        cli(registry, "pipelines.endpoints", "deploy", "Small", "taken", "--version", "1"),
        "endpoint 'taken' is in use by a model not from the registry, not by group 'Small'",
    )
    refused(  # refused before the approval: version 2 stays pending
        cli(registry, "pipelines.model_registry", "approve", "Small", "2", "--deploy", "taken"),
        "endpoint 'taken' is in use",
    )
    assert resources(registry) == before


def test_a_port_in_use_is_refused(registry):
    before = resources(registry)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        refused(
            cli(
                registry,
                "pipelines.endpoints",
                "deploy",
                "Small",
                "new",
                "--version",
                "1",
                "--port",
                port,
            ),
            f"port {port} on 127.0.0.1 is in use; choose another",
        )
        refused(
            cli(
                registry,
                "pipelines.model_registry",
                "approve",
                "Small",
                "2",
                "--deploy",
                "new",
                "--port",
                port,
            ),
            f"port {port} on 127.0.0.1 is in use",
        )
    assert resources(registry) == before


def test_a_model_the_server_cannot_load_is_refused_and_cleaned_up(registry):
    before = resources(registry)
    refused(
        cli(registry, "pipelines.endpoints", "deploy", "Small", "new", "--version", "3"),
        "could not load model Small-3-",
    )
    assert resources(registry) == before
    assert [p for p in server_processes(registry) if "--name=new" in p] == []


# on SageMaker: the same command, with boto3, against moto on 127.0.0.1
@pytest.fixture
def sagemaker_api(moto_server):
    """moto, taught UpdateEndpoint (moto 5 has none): the endpoint takes the new configuration."""
    from moto.core.responses import ActionResult
    from moto.sagemaker.responses import SageMakerResponse

    def update_endpoint(self):
        backend = self.sagemaker_backend
        endpoint = backend.endpoints[self._get_param("EndpointName")]
        config = backend.describe_endpoint_config(self._get_param("EndpointConfigName"))
        endpoint.endpoint_config_name = config["EndpointConfigName"]
        endpoint.production_variants = endpoint._process_production_variants(
            config["ProductionVariants"]
        )
        return ActionResult({"EndpointArn": endpoint.arn})

    SageMakerResponse.update_endpoint = update_endpoint
    sm = boto3.client("sagemaker", region_name="us-east-1")
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    yield SimpleNamespace(sm=sm, url=moto_server.url)
    del SageMakerResponse.update_endpoint


def register(sm, status: str) -> str:
    return sm.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus=status,
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://models/abalone/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]


def test_on_sagemaker_the_command_creates_then_updates_the_endpoint(sagemaker_api):
    sm = sagemaker_api.sm

    def deploy(*args):
        return run_cli(
            ["pipelines.endpoints", "deploy", GROUP, "abalone-prod", *args],
            env={"AWS_ENDPOINT_URL": sagemaker_api.url},
            no_network=True,
        )

    first = register(sm, "Approved")
    register(sm, "PendingManualApproval")
    result = deploy("--role-arn", "arn:aws:iam::123456789012:role/Deploy")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"endpoint abalone-prod created: serves version 1 of {GROUP}"
    endpoint = sm.describe_endpoint(EndpointName="abalone-prod")
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    (variant,) = config["ProductionVariants"]
    assert (variant["VariantName"], variant["InstanceType"]) == ("AllTraffic", "ml.m5.large")
    model = sm.describe_model(ModelName=variant["ModelName"])
    assert model["PrimaryContainer"]["ModelPackageName"] == first
    assert model["ExecutionRoleArn"] == "arn:aws:iam::123456789012:role/Deploy"

    second = register(sm, "Approved")
    result = deploy("--role-arn", "arn:aws:iam::123456789012:role/Deploy", "--output", "json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert (answer["Action"], answer["ModelPackageVersion"]) == ("updated", 3)
    endpoint = sm.describe_endpoint(EndpointName="abalone-prod")
    assert endpoint["EndpointConfigName"] == answer["EndpointConfigName"]
    model = sm.describe_model(ModelName=answer["ModelName"])
    assert model["PrimaryContainer"]["ModelPackageName"] == second

    missing_role = deploy()
    assert missing_role.returncode == 2 and "--role-arn is required" in missing_role.stderr
