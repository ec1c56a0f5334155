"""Endpoints through boto3 as a user calls them: configs, endpoints, invocations, failures."""

import json
import os
import signal
import socket
import time
import urllib.request

import pytest
import xgboost
from botocore.exceptions import ClientError

from smlocal.endpoints import local_url
from tests.smlocal.endpoints.conftest import FEATURES
from tests.smlocal.endpoints.helpers import (
    BUCKET,
    IMAGE,
    ROLE,
    csv_row,
    serve,
    server_processes,
    variant,
)

pytestmark = pytest.mark.heavy  # scheduled first (tests/conftest.py)


def gone(home, seconds: float = 20) -> None:
    """Until no host or model server of ``home`` runs (they end on their own)."""
    deadline = time.monotonic() + seconds
    while server_processes(home):
        assert time.monotonic() < deadline, server_processes(home)
        time.sleep(0.1)


def predict(booster, rows):
    return [float(p) for p in booster.predict(xgboost.DMatrix(rows))]


def test_an_endpoint_serves_the_built_in_xgboost_model_over_http(aws, xgboost_model):
    booster = xgboost_model("xgb")
    with socket.socket() as probe:  # a free port, asked for with the local target's tag
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    described = serve(
        aws.sm, "xgb-endpoint", "xgb", Tags=[{"Key": "pipelines-local:port", "Value": str(port)}]
    )
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "xgb-endpoint-config"
    (deployed,) = described["ProductionVariants"]
    assert deployed["VariantName"] == "AllTraffic"
    assert deployed["DeployedImages"][0]["SpecifiedImage"] == IMAGE

    answer = aws.runtime.invoke_endpoint(
        EndpointName="xgb-endpoint", Body=csv_row(FEATURES[0]), ContentType="text/csv"
    )
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert answer["ContentType"].startswith("text/csv")
    assert float(answer["Body"].read()) == pytest.approx(predict(booster, FEATURES[:1])[0])

    # the same server answers curl-style requests at the endpoint's URL
    url = local_url("xgb-endpoint")
    assert url == f"http://127.0.0.1:{port}/invocations"
    request = urllib.request.Request(
        url, data=("\n".join(csv_row(r) for r in FEATURES[:3])).encode(), method="POST"
    )
    request.add_header("Content-Type", "text/csv")
    with urllib.request.urlopen(request) as reply:
        lines = reply.read().decode().split()
    assert [float(v) for v in lines] == pytest.approx(predict(booster, FEATURES[:3]))
    with urllib.request.urlopen(url.replace("/invocations", "/ping")) as ping:
        assert ping.status == 200


def test_content_and_accept_types_as_the_xgboost_container_takes_them(aws, xgboost_model):
    booster = xgboost_model("xgb")
    serve(aws.sm, "types", "xgb")
    expected = predict(booster, FEATURES[:2])

    def invoke(body, content_type, accept=None):
        kwargs = {"Accept": accept} if accept else {}
        return aws.runtime.invoke_endpoint(
            EndpointName="types", Body=body, ContentType=content_type, **kwargs
        )["Body"].read()

    libsvm = "\n".join(
        " ".join(f"{i + 1}:{float(v)!r}" for i, v in enumerate(row)) for row in FEATURES[:2]
    )
    assert [float(v) for v in invoke(libsvm, "text/libsvm").split()] == pytest.approx(expected)
    as_json = json.loads(invoke(csv_row(FEATURES[0]), "text/csv", "application/json"))
    assert as_json["predictions"][0]["score"] == pytest.approx(expected[0])
    lines = invoke(libsvm, "text/x-libsvm", "application/jsonlines").decode().splitlines()
    assert [json.loads(line)["score"] for line in lines] == pytest.approx(expected)

    for body, content_type, accept, status in [
        ('{"instances": [1, 2]}', "application/json", None, 415),
        (csv_row(FEATURES[0]), "text/csv", "application/x-parquet", 406),
        ("not,numbers", "text/csv", None, 400),
    ]:
        with pytest.raises(ClientError) as error:
            invoke(body, content_type, accept)
        assert error.value.response["Error"]["Code"] == "ModelError"
        assert error.value.response["OriginalStatusCode"] == status


def test_describe_list_and_delete(aws, xgboost_model):
    xgboost_model("xgb")
    serve(aws.sm, "listed", "xgb")
    config = aws.sm.describe_endpoint_config(EndpointConfigName="listed-config")
    assert config["ProductionVariants"] == variant("xgb")
    assert "listed-config" in [
        c["EndpointConfigName"] for c in aws.sm.list_endpoint_configs()["EndpointConfigs"]
    ]
    (summary,) = aws.sm.list_endpoints(NameContains="list")["Endpoints"]
    assert summary["EndpointStatus"] == "InService"
    assert aws.sm.list_endpoints(StatusEquals="Failed")["Endpoints"] == []

    aws.sm.delete_endpoint(EndpointName="listed")
    assert aws.sm.list_endpoints()["Endpoints"] == []
    assert server_processes(aws.home) == []
    with pytest.raises(ClientError, match="Could not find endpoint"):
        aws.sm.describe_endpoint(EndpointName="listed")
    with pytest.raises(ClientError, match="not found"):
        aws.runtime.invoke_endpoint(EndpointName="listed", Body="1,2,3,4", ContentType="text/csv")
    aws.sm.delete_endpoint_config(EndpointConfigName="listed-config")


def test_refusals_are_one_clear_line_and_create_nothing(aws, xgboost_model):
    xgboost_model("xgb")
    aws.sm.create_model(
        ModelName="unservable",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own:1"},
    )
    with pytest.raises(ClientError, match="image .*my-own:1' is not supported locally"):
        aws.sm.create_endpoint_config(
            EndpointConfigName="unservable", ProductionVariants=variant("unservable")
        )
    with pytest.raises(ClientError, match="exactly one"):
        aws.sm.create_endpoint_config(
            EndpointConfigName="split",
            ProductionVariants=variant("xgb") + [{**variant("xgb")[0], "VariantName": "B"}],
        )
    with pytest.raises(ClientError, match="Could not find endpoint configuration"):
        aws.sm.create_endpoint(EndpointName="no-config", EndpointConfigName="missing")
    assert aws.sm.list_endpoint_configs()["EndpointConfigs"] == []

    serve(aws.sm, "taken", "xgb")
    with pytest.raises(ClientError, match="Cannot create already existing endpoint"):
        aws.sm.create_endpoint(EndpointName="taken", EndpointConfigName="taken-config")

    with socket.socket() as busy:  # a port someone else listens on
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ClientError) as error:
            aws.sm.create_endpoint(
                EndpointName="on-a-busy-port",
                EndpointConfigName="taken-config",
                Tags=[{"Key": "pipelines-local:port", "Value": str(port)}],
            )
    message = error.value.response["Error"]["Message"]
    assert message == f"port {port} on 127.0.0.1 is in use; choose another"
    assert [e["EndpointName"] for e in aws.sm.list_endpoints()["Endpoints"]] == ["taken"]


def test_a_model_the_server_cannot_load_fails_the_endpoint_with_its_reason(aws):
    aws.s3.put_object(Bucket=BUCKET, Key="broken/model.tar.gz", Body=b"not a tarball")
    aws.sm.create_model(
        ModelName="broken",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/broken/model.tar.gz"},
    )
    described = serve(aws.sm, "broken", "broken")
    assert described["EndpointStatus"] == "Failed"
    assert "could not load model broken" in described["FailureReason"]
    gone(aws.home)  # nothing left running for it
    with pytest.raises(ClientError, match="Endpoint broken is Failed"):
        aws.runtime.invoke_endpoint(EndpointName="broken", Body="1,2,3,4", ContentType="text/csv")


def test_a_crashed_server_shows_as_failed_with_its_reason(aws, xgboost_model):
    from smlocal.endpoints import manager_for

    xgboost_model("xgb")
    serve(aws.sm, "crashing", "xgb")
    os.kill(manager_for().get("crashing").worker_pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while aws.sm.describe_endpoint(EndpointName="crashing")["EndpointStatus"] != "Failed":
        assert time.monotonic() < deadline, "the crash was not noticed"
        time.sleep(0.1)
    reason = aws.sm.describe_endpoint(EndpointName="crashing")["FailureReason"]
    assert "was killed by SIGKILL" in reason

    # a host that dies is noticed by whoever looks next
    serve(aws.sm, "orphaned", "xgb", config="orphaned-config")
    os.kill(manager_for().get("orphaned").host_pid, signal.SIGKILL)
    time.sleep(0.2)
    described = aws.sm.describe_endpoint(EndpointName="orphaned")
    assert described["EndpointStatus"] == "Failed"
    assert "ended unexpectedly" in described["FailureReason"]
    gone(aws.home)  # its model server follows it (the lifeline closes)


def test_unsupported_options_are_refused_by_name(aws, xgboost_model):
    xgboost_model("xgb")
    with pytest.raises(ClientError, match="DataCaptureConfig is not supported locally"):
        aws.sm.create_endpoint_config(
            EndpointConfigName="captured",
            ProductionVariants=variant("xgb"),
            DataCaptureConfig={
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": f"s3://{BUCKET}/capture",
                "CaptureOptions": [{"CaptureMode": "Input"}],
            },
        )
    with pytest.raises(ClientError, match="TargetModel is not supported locally"):
        aws.runtime.invoke_endpoint(
            EndpointName="any", Body="1,2,3,4", ContentType="text/csv", TargetModel="a.tar.gz"
        )
    aws.sm.create_endpoint_config(EndpointConfigName="plain", ProductionVariants=variant("xgb"))
    with pytest.raises(ClientError, match="DeploymentConfig is not supported locally"):
        aws.sm.create_endpoint(
            EndpointName="blue-green",
            EndpointConfigName="plain",
            DeploymentConfig={
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "ALL_AT_ONCE",
                        "WaitIntervalInSeconds": 0,
                    }
                }
            },
        )
    assert aws.sm.list_endpoints()["Endpoints"] == []


def test_names_that_would_lead_out_of_the_state_folder_are_refused(aws, xgboost_model):
    """An endpoint's folder is named after it: SageMaker's own name pattern keeps it one folder."""
    xgboost_model("xgb")
    with pytest.raises(ClientError, match="EndpointConfigName '../up' does not match"):
        aws.sm.create_endpoint_config(EndpointConfigName="../up", ProductionVariants=variant("xgb"))
    aws.sm.create_endpoint_config(EndpointConfigName="fine", ProductionVariants=variant("xgb"))
    with pytest.raises(ClientError, match="EndpointName '../../escaped' does not match"):
        aws.sm.create_endpoint(EndpointName="../../escaped", EndpointConfigName="fine")
    assert aws.sm.list_endpoints()["Endpoints"] == []
    assert not (aws.home.parent / "escaped").exists()
