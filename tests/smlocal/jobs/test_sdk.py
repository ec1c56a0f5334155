"""The SageMaker Python SDK's own job calls, outside any pipeline, on the local target.

Plain ``sagemaker.session.Session()`` and ``get_execution_role()``, as a notebook writes them.
Where a test's point is not the SDK's waiting, it passes ``wait=False`` and describes the job
itself, so it does not sit in the SDK's sleeps.
"""

import csv
import io
import re
import tarfile
import textwrap

import numpy as np
import pytest
import xgboost

from smlocal.artifacts import pack_folder
from tests.helpers import ABALONE_CSV
from tests.smlocal.jobs.requests import BUCKET, XGB_IMAGE, wait_for

PREPROCESS = """
import csv, os
rows = list(csv.reader(open("/opt/ml/processing/input/abalone-dataset.csv")))
print(f"read {len(rows)} rows")
os.makedirs("/opt/ml/processing/train", exist_ok=True)
with open("/opt/ml/processing/train/train.csv", "w") as f:
    for row in rows[:100]:  # label (rings) first, then the numeric features
        f.write(",".join([row[8], *row[1:8]]) + "\\n")
"""
TRAIN_SCRIPT = """
import argparse, os
import joblib, pandas as pd
from sklearn.tree import DecisionTreeRegressor
parser = argparse.ArgumentParser()
parser.add_argument("--max_depth", type=int)
args = parser.parse_args()
data = pd.read_csv(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"), header=None)
model = DecisionTreeRegressor(max_depth=args.max_depth).fit(data.iloc[:, 1:], data.iloc[:, 0])
print(f"trained depth={model.get_depth()}")
joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
"""


@pytest.fixture
def sdk(aws):
    import sagemaker

    session = sagemaker.session.Session()
    return session, sagemaker.get_execution_role()


def abalone_rows(count: int) -> list[list[float]]:
    """The first rows of the real data set: rings, then the seven numeric measurements."""
    with open(ABALONE_CSV) as f:
        rows = list(csv.reader(f))[:count]
    return [[float(r[8]), *map(float, r[1:8])] for r in rows]


def put_rows(aws, key: str, rows) -> str:
    body = "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows).encode()
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return f"s3://{BUCKET}/{key}"


def test_sklearn_processor_runs_on_the_abalone_data(aws, sdk, tmp_path):
    from sagemaker.processing import ProcessingInput, ProcessingOutput
    from sagemaker.sklearn.processing import SKLearnProcessor

    session, role = sdk
    script = tmp_path / "preprocess.py"
    script.write_text(textwrap.dedent(PREPROCESS))
    processor = SKLearnProcessor(
        framework_version="1.2-1",
        role=role,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=session,
    )
    processor.run(
        code=str(script),
        inputs=[ProcessingInput(source=str(ABALONE_CSV), destination="/opt/ml/processing/input")],
        outputs=[ProcessingOutput(output_name="train", source="/opt/ml/processing/train")],
        wait=True,
        logs=False,
    )
    job = processor.latest_job.describe()
    assert job["ProcessingJobStatus"] == "Completed"
    output = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    bucket, key = output[len("s3://") :].split("/", 1)
    assert bucket == session.default_bucket()
    body = aws.s3.get_object(Bucket=bucket, Key=f"{key}/train.csv")["Body"].read().decode()
    assert [[float(v) for v in line.split(",")] for line in body.splitlines()] == abalone_rows(100)


def test_xgboost_estimator_fit_trains_and_prints_the_jobs_log(aws, sdk, capsys):
    import sagemaker
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput

    session, role = sdk
    image = sagemaker.image_uris.retrieve("xgboost", session.boto_region_name, "1.7-1")
    assert image == XGB_IMAGE
    train = put_rows(aws, "abalone/train/train.csv", abalone_rows(200))
    estimator = Estimator(
        image_uri=image,
        role=role,
        instance_count=1,
        instance_type="ml.m5.xlarge",
        output_path=f"s3://{BUCKET}/xgboost",
        hyperparameters={"objective": "reg:squarederror", "num_round": 5, "max_depth": 3},
        sagemaker_session=session,
    )
    estimator.fit({"train": TrainingInput(train, content_type="text/csv")}, wait=True, logs=True)

    name = estimator.latest_training_job.name
    assert estimator.model_data == f"s3://{BUCKET}/xgboost/{name}/output/model.tar.gz"
    model = aws.s3.get_object(Bucket=BUCKET, Key=f"xgboost/{name}/output/model.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(model["Body"].read())) as tar:
        booster = xgboost.Booster()
        booster.load_model(bytearray(tar.extractfile("xgboost-model").read()))
    assert booster.num_boosted_rounds() == 5
    printed = capsys.readouterr().out
    rounds = re.findall(r"\[(\d)\]#011train-rmse:([0-9.]+)", printed)
    assert [r for r, _ in rounds] == ["0", "1", "2", "3", "4"]  # each line once, in order
    assert "Completed - Training job completed" in printed
    job = session.sagemaker_client.describe_training_job(TrainingJobName=name)
    (metric,) = job["FinalMetricDataList"]
    assert metric["MetricName"] == "train:rmse"
    assert metric["Value"] == float(rounds[-1][1])


def test_script_mode_estimator_runs_its_entry_point(aws, sdk, tmp_path):
    from sagemaker.sklearn import SKLearn

    session, role = sdk
    (tmp_path / "train.py").write_text(textwrap.dedent(TRAIN_SCRIPT))
    train = put_rows(aws, "abalone/train/train.csv", abalone_rows(100))
    estimator = SKLearn(
        entry_point="train.py",
        source_dir=str(tmp_path),
        framework_version="1.2-1",
        role=role,
        instance_count=1,
        instance_type="ml.m5.xlarge",
        hyperparameters={"max_depth": 2},
        sagemaker_session=session,
    )
    estimator.fit({"train": train}, wait=False)
    name = estimator.latest_training_job.name
    job = wait_for(
        lambda: session.sagemaker_client.describe_training_job(TrainingJobName=name),
        "TrainingJobStatus",
    )
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert (aws.home / "jobs" / name / "logs" / "stdout.log").read_text() == "trained depth=2\n"
    bucket, key = job["ModelArtifacts"]["S3ModelArtifacts"][len("s3://") :].split("/", 1)
    with tarfile.open(
        fileobj=io.BytesIO(aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    ) as tar:
        assert tar.getnames() == ["model.joblib"]


def test_transformer_runs_a_created_model(aws, sdk, tmp_path):
    from sagemaker.transformer import Transformer

    session, role = sdk
    rows = np.array(abalone_rows(30))
    booster = xgboost.train(
        {"objective": "reg:squarederror"}, xgboost.DMatrix(rows[:, 1:], label=rows[:, 0]), 5
    )
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "xgboost-model").write_bytes(booster.save_raw(raw_format="ubj"))
    aws.s3.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=pack_folder(tmp_path / "model"))
    aws.sm.create_model(
        ModelName="abalone-xgb",
        ExecutionRoleArn=role,
        PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/model/model.tar.gz"},
    )
    batch = put_rows(aws, "batch/in/features.csv", rows[:, 1:])
    transformer = Transformer(
        model_name="abalone-xgb",
        instance_count=1,
        instance_type="ml.m5.xlarge",
        output_path=f"s3://{BUCKET}/batch/out",
        assemble_with="Line",
        sagemaker_session=session,
    )
    transformer.transform(batch, content_type="text/csv", split_type="Line", wait=False)
    name = transformer.latest_transform_job.name
    job = wait_for(
        lambda: aws.sm.describe_transform_job(TransformJobName=name), "TransformJobStatus"
    )
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ModelName"] == "abalone-xgb" and job["TransformInput"]["SplitType"] == "Line"
    out = aws.s3.get_object(Bucket=BUCKET, Key="batch/out/features.csv.out")["Body"].read()
    predictions = [float(v) for v in out.decode().split()]
    assert np.allclose(predictions, booster.predict(xgboost.DMatrix(rows[:, 1:])), atol=1e-6)
    assert [
        j["TransformJobName"] for j in aws.sm.list_transform_jobs()["TransformJobSummaries"]
    ] == [name]
