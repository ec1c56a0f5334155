"""The built-in XGBoost algorithm end to end, as an older image runs it.

A 1.2-2 training job pickles its booster (evaluation scripts written for it unpickle
``xgboost-model``); its model serves a batch transform; without ``SplitType`` the whole object
is one request and the response is written as it is. A hyperparameter the image does not know
fails the job as its container would.
"""

import io
import pickle
import tarfile

import numpy as np
import xgboost

from tests.smlocal.jobs.requests import BUCKET, ROLE, training_job, wait_for

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.2-2"
RNG = np.random.default_rng(1)
X = RNG.normal(size=(60, 3))
Y = 2 * X[:, 0] - X[:, 1] + RNG.normal(scale=0.1, size=60)


def csv(rows) -> bytes:
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows).encode()


def train(aws, name: str, hyperparameters: dict) -> dict:
    aws.s3.put_object(Bucket=BUCKET, Key="train/train.csv", Body=csv(np.column_stack([Y, X])))
    request = training_job(
        name,
        image=IMAGE,
        HyperParameters=hyperparameters,
        InputDataConfig=[
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/train"}
                },
            }
        ],
    )
    request["AlgorithmSpecification"]["TrainingImage"] = IMAGE
    aws.sm.create_training_job(**request)
    return wait_for(lambda: aws.sm.describe_training_job(TrainingJobName=name), "TrainingJobStatus")


def transform(aws, name: str, model: str, **transform_input) -> bytes:
    aws.sm.create_transform_job(
        TransformJobName=name,
        ModelName=model,
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/batch/in"}
            },
            "ContentType": "text/csv",
            **transform_input,
        },
        TransformOutput={"S3OutputPath": f"s3://{BUCKET}/batch/{name}"},
        TransformResources={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
    )
    job = wait_for(
        lambda: aws.sm.describe_transform_job(TransformJobName=name), "TransformJobStatus"
    )
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    return aws.s3.get_object(Bucket=BUCKET, Key=f"batch/{name}/features.csv.out")["Body"].read()


def test_an_older_images_model_is_pickled_and_served_whole_without_split_type(aws):
    job = train(aws, "xgb-12", {"num_round": "5", "max_depth": "3", "objective": "reg:linear"})
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    body = aws.s3.get_object(Bucket=BUCKET, Key=artifact.split(f"{BUCKET}/", 1)[1])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        booster = pickle.load(tar.extractfile("xgboost-model"))  # as 1.2-2 evaluation scripts do
    assert booster.num_boosted_rounds() == 5

    aws.sm.create_model(
        ModelName="xgb-12",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": artifact},
    )
    aws.s3.put_object(Bucket=BUCKET, Key="batch/in/features.csv", Body=csv(X))
    expected = "".join(f"{p}\n" for p in booster.predict(xgboost.DMatrix(X)).tolist()).encode()
    assert transform(aws, "whole", "xgb-12") == expected  # one request, its response as it is
    by_line = transform(aws, "lines", "xgb-12", SplitType="Line")
    assert by_line.decode().split() == expected.decode().split()


def test_a_hyperparameter_the_image_does_not_know_fails_the_job_as_its_container_does(aws):
    job = train(aws, "xgb-silent", {"num_round": "5", "sampling_method": "uniform"})
    assert job["TrainingJobStatus"] == "Failed"
    assert "Extraneous hyperparameter found: sampling_method" in job["FailureReason"]
