"""UpdateEndpoint: the new server starts, the endpoint switches, the old one drains; no request fails."""

import time

import pytest
import xgboost

from smlocal.endpoints import local_url
from tests.smlocal.endpoints.conftest import FEATURES
from tests.smlocal.endpoints.helpers import (
    BUCKET,
    IMAGE,
    ROLE,
    Clients,
    csv_row,
    serve,
    variant,
    wait_for,
)


def test_an_update_switches_models_with_no_failed_request(aws, xgboost_model):
    first, second = xgboost_model("first", rounds=2), xgboost_model("second", rounds=30)
    old, new = (float(b.predict(xgboost.DMatrix(FEATURES[:1]))[0]) for b in (first, second))
    assert old != pytest.approx(new)
    serve(aws.sm, "switching", "first", config="first-config")
    url = local_url("switching")
    aws.sm.create_endpoint_config(
        EndpointConfigName="second-config", ProductionVariants=variant("second")
    )

    with Clients("switching", csv_row(FEATURES[0])) as clients:
        time.sleep(0.5)
        aws.sm.update_endpoint(EndpointName="switching", EndpointConfigName="second-config")
        assert aws.sm.describe_endpoint(EndpointName="switching")["EndpointStatus"] == "Updating"
        described = wait_for(aws.sm, "switching")
        time.sleep(1.5)  # the old server drains meanwhile
    assert clients.failures == []
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "second-config"
    for kind, answers in clients.answers.items():
        assert len(answers) > 5, kind
        assert answers[0] == pytest.approx(old) and answers[-1] == pytest.approx(new), kind
        assert set(round(a, 5) for a in answers) == {round(old, 5), round(new, 5)}, kind
    assert local_url("switching") == url  # the same address throughout


def test_a_failed_update_leaves_the_old_model_serving(aws, xgboost_model):
    booster = xgboost_model("good")
    aws.s3.put_object(Bucket=BUCKET, Key="bad/model.tar.gz", Body=b"\x00 not a model")
    aws.sm.create_model(
        ModelName="bad",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/bad/model.tar.gz"},
    )
    serve(aws.sm, "steady", "good", config="good-config")
    aws.sm.create_endpoint_config(
        EndpointConfigName="bad-config", ProductionVariants=variant("bad")
    )
    aws.sm.update_endpoint(EndpointName="steady", EndpointConfigName="bad-config")
    described = wait_for(aws.sm, "steady")
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "good-config"
    assert "update to endpoint configuration bad-config failed" in described["FailureReason"]
    body = aws.runtime.invoke_endpoint(
        EndpointName="steady", Body=csv_row(FEATURES[1]), ContentType="text/csv"
    )["Body"].read()
    assert float(body) == pytest.approx(float(booster.predict(xgboost.DMatrix(FEATURES[1:2]))[0]))
