"""CreateModel and Transform steps on hand-written definitions: built-in XGBoost and script models."""

import io
import json
import pickle
import tarfile

import numpy as np
import pytest
import xgboost
from botocore.exceptions import ClientError

from smlocal.artifacts import pack_folder
from tests.smlocal.builders import BUCKET, definition, run, tarball

XGB_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
RNG = np.random.default_rng(0)
FEATURES = RNG.normal(size=(20, 3))
LABELS = FEATURES @ np.array([2.0, -1.0, 0.5])


def model_step(name, image, model_data, environment=None):
    return {
        "Name": name,
        "Type": "Model",
        "Arguments": {
            "ExecutionRoleArn": "arn:aws:iam::000000000000:role/R",
            "PrimaryContainer": {
                "Image": image,
                "Environment": environment or {},
                "ModelDataUrl": model_data,
            },
        },
    }


def transform_step(name, model_step_name, input_uri, output_uri, processing=None, **input_extra):
    args = {
        "ModelName": {"Get": f"Steps.{model_step_name}.ModelName"},
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": "text/csv",
            "SplitType": "Line",
            **input_extra,
        },
        "TransformOutput": {
            "S3OutputPath": output_uri,
            "AssembleWith": "Line",
            "Accept": "text/csv",
        },
        "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.m5.large"},
    }
    if processing:
        args["DataProcessing"] = processing
    return {"Name": name, "Type": "Transform", "Arguments": args}


def csv_rows(rows):
    return ("\n".join(",".join(repr(float(v)) for v in row) for row in rows) + "\n").encode()


@pytest.fixture
def xgboost_model(client):
    booster = xgboost.train(
        {"objective": "reg:squarederror"}, xgboost.DMatrix(FEATURES, label=LABELS), 10
    )
    uri = f"s3://{BUCKET}/models/xgb/model.tar.gz"
    client.backend.store.put_bytes(
        uri, tarball({"xgboost-model": bytes(booster.save_raw(raw_format="ubj"))})
    )
    return booster, uri


def test_builtin_xgboost_transform_writes_one_prediction_per_line(client, xgboost_model):
    booster, model_uri = xgboost_model
    store = client.backend.store
    store.put_bytes(f"s3://{BUCKET}/batch/part-a.csv", csv_rows(FEATURES[:12]))
    store.put_bytes(f"s3://{BUCKET}/batch/sub/part-b.csv", csv_rows(FEATURES[12:]))
    arn, status, steps = run(
        client,
        definition(
            model_step("Model", XGB_IMAGE, model_uri),
            transform_step("Transform", "Model", f"s3://{BUCKET}/batch", f"s3://{BUCKET}/out"),
        ),
    )
    assert status["PipelineExecutionStatus"] == "Succeeded", steps
    expected = booster.predict(xgboost.DMatrix(FEATURES))
    a = [float(v) for v in store.get_bytes(f"s3://{BUCKET}/out/part-a.csv.out").decode().split()]
    b = [
        float(v) for v in store.get_bytes(f"s3://{BUCKET}/out/sub/part-b.csv.out").decode().split()
    ]
    assert np.allclose(a + b, expected, atol=1e-6)

    model_arn = steps["Model"]["Metadata"]["Model"]["Arn"]
    model_name = model_arn.rsplit("/", 1)[-1]
    described = client.describe_model(ModelName=model_name)
    assert described["PrimaryContainer"]["ModelDataUrl"] == model_uri
    assert model_name in [m["ModelName"].lower() for m in client.list_models()["Models"]]
    job = client.describe_transform_job(
        TransformJobName=steps["Transform"]["Metadata"]["TransformJob"]["Arn"].rsplit("/", 1)[-1]
    )
    assert job["TransformJobStatus"] == "Completed"
    assert job["TransformOutput"]["S3OutputPath"] == f"s3://{BUCKET}/out"
    assert job["ModelName"].lower() == model_name


def test_filters_and_join_keep_the_label_beside_the_prediction(client, xgboost_model):
    booster, model_uri = xgboost_model
    store = client.backend.store
    store.put_bytes(f"s3://{BUCKET}/test/test.csv", csv_rows(np.column_stack([LABELS, FEATURES])))
    _, status, steps = run(
        client,
        definition(
            model_step("Model", XGB_IMAGE, model_uri),
            transform_step(
                "Transform",
                "Model",
                f"s3://{BUCKET}/test/test.csv",
                f"s3://{BUCKET}/joined",
                {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"},
            ),
        ),
    )
    assert status["PipelineExecutionStatus"] == "Succeeded", steps
    lines = store.get_bytes(f"s3://{BUCKET}/joined/test.csv.out").decode().splitlines()
    pairs = np.array([[float(v) for v in line.split(",")] for line in lines])
    assert pairs.shape == (20, 2)
    assert np.allclose(pairs[:, 0], LABELS)
    assert np.allclose(pairs[:, 1], booster.predict(xgboost.DMatrix(FEATURES)), atol=1e-6)


INFERENCE = b"""
import os, pickle
def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.pkl"), "rb") as f:
        return pickle.load(f)
"""


def test_a_script_model_uses_model_fn_and_the_default_handlers(client):
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit(FEATURES, LABELS)
    store = client.backend.store
    store.put_bytes(
        f"s3://{BUCKET}/models/lr/model.tar.gz", tarball({"model.pkl": pickle.dumps(model)})
    )
    store.put_bytes(f"s3://{BUCKET}/code/sourcedir.tar.gz", tarball({"inference.py": INFERENCE}))
    store.put_bytes(f"s3://{BUCKET}/batch/rows.csv", csv_rows(FEATURES))
    env = {
        "SAGEMAKER_PROGRAM": "inference.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": f"s3://{BUCKET}/code/sourcedir.tar.gz",
    }
    _, status, steps = run(
        client,
        definition(
            model_step("Model", SKLEARN_IMAGE, f"s3://{BUCKET}/models/lr/model.tar.gz", env),
            transform_step("Transform", "Model", f"s3://{BUCKET}/batch", f"s3://{BUCKET}/lr-out"),
        ),
    )
    assert status["PipelineExecutionStatus"] == "Succeeded", steps
    values = [
        float(v) for v in store.get_bytes(f"s3://{BUCKET}/lr-out/rows.csv.out").decode().split()
    ]
    assert np.allclose(values, model.predict(FEATURES))


def test_an_unservable_model_fails_the_transform_with_its_image(client):
    client.backend.store.put_bytes(f"s3://{BUCKET}/batch/rows.csv", csv_rows(FEATURES))
    _, status, steps = run(
        client,
        definition(
            model_step(
                "Model",
                "123.dkr.ecr.us-east-1.amazonaws.com/my-server:1",
                f"s3://{BUCKET}/none.tar.gz",
            ),
            transform_step("Transform", "Model", f"s3://{BUCKET}/batch", f"s3://{BUCKET}/x"),
        ),
    )
    assert status["PipelineExecutionStatus"] == "Failed"
    assert steps["Model"]["StepStatus"] == "Succeeded"
    assert "my-server:1" in steps["Transform"]["FailureReason"]


@pytest.mark.parametrize(
    "change,message",
    [
        (
            {
                "TransformInput": {
                    "DataSource": {
                        "S3DataSource": {"S3DataType": "ManifestFile", "S3Uri": "s3://b/m"}
                    }
                }
            },
            "S3DataType 'ManifestFile'",
        ),
        ({"DataProcessing": {"InputFilter": "$.features"}}, "InputFilter: filter '$.features'"),
        (
            {"TransformOutput": {"S3OutputPath": "s3://b/o", "AssembleWith": "RecordIO"}},
            "AssembleWith 'RecordIO'",
        ),
    ],
)
def test_unsupported_options_are_refused_at_create(client, change, message):
    step = transform_step("Transform", "Model", "s3://b/in", "s3://b/out")
    step["Arguments"].update(change)
    with pytest.raises(ClientError, match=message.replace("$", r"\$").replace(".", r"\.")):
        client.create_pipeline(
            PipelineName="P",
            RoleArn="arn:aws:iam::0:role/R",
            PipelineDefinition=definition(model_step("Model", XGB_IMAGE, "s3://b/m.tar.gz"), step),
        )


def test_json_content_with_filters_is_refused(client):
    step = transform_step("Transform", "Model", "s3://b/in", "s3://b/out", {"InputFilter": "$[1:]"})
    step["Arguments"]["TransformInput"]["ContentType"] = "application/json"
    with pytest.raises(ClientError, match="text/csv only"):
        client.create_pipeline(
            PipelineName="P",
            RoleArn="arn:aws:iam::0:role/R",
            PipelineDefinition=definition(model_step("Model", XGB_IMAGE, "s3://b/m.tar.gz"), step),
        )


def test_sourcedir_archives_are_reproducible(tmp_path):
    (tmp_path / "train.py").write_text("print(1)")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"junk")
    first = pack_folder(tmp_path)
    (tmp_path / "train.py").touch()
    assert pack_folder(tmp_path) == first
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        assert tar.getnames() == ["train.py"]


def test_describe_json_is_serialisable(client, xgboost_model):
    _, model_uri = xgboost_model
    client.create_model(
        ModelName="direct",
        ExecutionRoleArn="arn:aws:iam::0:role/R",
        PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": model_uri},
    )
    assert (
        json.loads(json.dumps(client.describe_model(ModelName="direct"), default=str))["ModelName"]
        == "direct"
    )
    with pytest.raises(ClientError, match="Could not find model"):
        client.describe_model(ModelName="missing")
