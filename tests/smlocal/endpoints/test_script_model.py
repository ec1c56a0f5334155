"""Framework models on an endpoint: the inference script's handlers, or the containers' defaults."""

import json
import pickle

import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.linear_model import LinearRegression

from tests.smlocal.endpoints.conftest import FEATURES, LABELS, tarball
from tests.smlocal.endpoints.helpers import BUCKET, ROLE, SKLEARN_IMAGE, csv_row, serve

HANDLERS = b"""
import json, os, pickle
import numpy as np

def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.pkl"), "rb") as f:
        return pickle.load(f)

def input_fn(body, content_type):
    assert content_type == "application/json", content_type
    return np.array(json.loads(body)["rows"])

def predict_fn(data, model):
    return model.predict(data) * 2

def output_fn(prediction, accept):
    return json.dumps({"doubled": prediction.tolist(), "accept": accept})
"""
DEFAULTS = b"""
import os, pickle

def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.pkl"), "rb") as f:
        return pickle.load(f)
"""


@pytest.fixture
def script_model(aws):
    """``make(name, script)``: a scikit-learn model served by ``script`` (inference.py)."""
    fitted = LinearRegression().fit(FEATURES, LABELS)

    def make(name, script):
        aws.s3.put_object(
            Bucket=BUCKET,
            Key=f"{name}/model.tar.gz",
            Body=tarball({"model.pkl": pickle.dumps(fitted)}),
        )
        aws.s3.put_object(
            Bucket=BUCKET, Key=f"{name}/sourcedir.tar.gz", Body=tarball({"inference.py": script})
        )
        aws.sm.create_model(
            ModelName=name,
            ExecutionRoleArn=ROLE,
            PrimaryContainer={
                "Image": SKLEARN_IMAGE,
                "ModelDataUrl": f"s3://{BUCKET}/{name}/model.tar.gz",
                "Environment": {
                    "SAGEMAKER_PROGRAM": "inference.py",
                    "SAGEMAKER_SUBMIT_DIRECTORY": f"s3://{BUCKET}/{name}/sourcedir.tar.gz",
                },
            },
        )
        return fitted

    return make


def test_the_scripts_handlers_answer(aws, script_model):
    fitted = script_model("handlers", HANDLERS)
    serve(aws.sm, "handlers", "handlers")
    answer = aws.runtime.invoke_endpoint(
        EndpointName="handlers",
        Body=json.dumps({"rows": FEATURES[:2].tolist()}),
        ContentType="application/json",
        Accept="application/json",
    )
    assert answer["ContentType"] == "application/json"
    reply = json.loads(answer["Body"].read())
    assert reply["accept"] == "application/json"
    assert np.allclose(reply["doubled"], fitted.predict(FEATURES[:2]) * 2)


def test_the_default_handlers_take_csv_and_json(aws, script_model):
    fitted = script_model("defaults", DEFAULTS)
    serve(aws.sm, "defaults", "defaults")
    as_json = aws.runtime.invoke_endpoint(
        EndpointName="defaults",
        Body=json.dumps(FEATURES[:2].tolist()),
        ContentType="application/json",
    )["Body"].read()
    assert np.allclose(json.loads(as_json), fitted.predict(FEATURES[:2]))
    as_csv = aws.runtime.invoke_endpoint(
        EndpointName="defaults",
        Body=csv_row(FEATURES[0]),
        ContentType="text/csv",
        Accept="text/csv",
    )["Body"].read()
    assert float(as_csv) == pytest.approx(fitted.predict(FEATURES[:1])[0])
    with pytest.raises(ClientError) as error:
        aws.runtime.invoke_endpoint(
            EndpointName="defaults", Body=b"\x00\x01", ContentType="application/x-npy"
        )
    assert error.value.response["OriginalStatusCode"] == 415
