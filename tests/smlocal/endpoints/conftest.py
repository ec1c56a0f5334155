"""Fixtures of the endpoint tests: clients on the local target, models to serve, no server left over."""

import io
import tarfile
from types import SimpleNamespace

import boto3
import numpy as np
import pytest
import xgboost

from tests.smlocal.endpoints.helpers import BUCKET, IMAGE, ROLE, server_processes

RNG = np.random.default_rng(7)
FEATURES = RNG.normal(size=(60, 4))
LABELS = FEATURES @ np.array([3.0, -1.0, 0.5, 2.0])


def tarball(files: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def aws(on_local_target):
    """SageMaker, runtime and S3 clients on the local target; every endpoint stopped after."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    clients = SimpleNamespace(
        sm=boto3.client("sagemaker"),
        runtime=boto3.client("sagemaker-runtime"),
        s3=s3,
        home=on_local_target,
    )
    yield clients
    from smlocal.endpoints import stop_all

    stop_all(on_local_target)
    assert server_processes(on_local_target) == [], "an endpoint's process outlived its test"


@pytest.fixture
def xgboost_model(aws):
    """``make(name, rounds)``: an XGBoost model (built-in algorithm) and its booster."""

    def make(name: str = "xgb", rounds: int = 10):
        booster = xgboost.train(
            {"objective": "reg:squarederror"}, xgboost.DMatrix(FEATURES, label=LABELS), rounds
        )
        key = f"models/{name}/model.tar.gz"
        aws.s3.put_object(
            Bucket=BUCKET,
            Key=key,
            Body=tarball({"xgboost-model": bytes(booster.save_raw(raw_format="ubj"))}),
        )
        aws.sm.create_model(
            ModelName=name,
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/{key}"},
        )
        return booster

    return make
