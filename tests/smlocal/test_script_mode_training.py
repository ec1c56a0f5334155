"""Script-mode training: the submitted source, the SM_* environment, arguments, metrics, artifacts."""

import io
import json
import tarfile

from tests.smlocal.builders import BUCKET, ROLE, definition, run, tarball

TRAIN = b"""
import argparse, json, os, sys
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int)
parser.add_argument("--name")
parser.add_argument("--layers")
args = parser.parse_args()
import helper  # a module beside the entry point, as in a source_dir
env = {k: v for k, v in os.environ.items() if k.startswith("SM_")}
rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "data.csv")).read().splitlines()
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
    json.dump({"args": vars(args), "env": env, "rows": len(rows), "helper": helper.VALUE, "argv": sys.argv[1:]}, f)
os.makedirs(os.environ["SM_OUTPUT_DATA_DIR"], exist_ok=True)
open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.txt"), "w").write("extra")
for epoch in range(args.epochs):
    print(f"epoch={epoch} loss={1.0 / (epoch + 1):.3f};")
"""


def training_step(hyperparameters, metric_definitions):
    return {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingInputMode": "File",
                "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
                "MetricDefinitions": metric_definitions,
            },
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/training"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
            "ResourceConfig": {
                "VolumeSizeInGB": 30,
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
            },
            "RoleArn": ROLE,
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "ContentType": "text/csv",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": f"s3://{BUCKET}/data/train",
                        }
                    },
                }
            ],
            "HyperParameters": hyperparameters,
        },
    }


def test_entry_point_runs_with_the_sm_environment(client):
    store = client.backend.store
    store.put_bytes(
        f"s3://{BUCKET}/code/sourcedir.tar.gz",
        tarball({"train.py": TRAIN, "helper.py": b"VALUE = 42\n"}),
    )
    store.put_bytes(f"s3://{BUCKET}/data/train/data.csv", b"1,2\n3,4\n5,6\n")
    # framework estimators send every value JSON-encoded
    hyperparameters = {
        "epochs": "3",
        "name": '"abalone"',
        "layers": "[8, 4]",
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": f'"s3://{BUCKET}/code/sourcedir.tar.gz"',
        "sagemaker_container_log_level": "20",
        "sagemaker_region": '"us-east-1"',
    }
    metrics = [
        {"Name": "train:loss", "Regex": r"loss=([0-9.]+);"},
        {"Name": "never", "Regex": r"nope=([0-9.]+)"},
    ]
    _, status, steps = run(client, definition(training_step(hyperparameters, metrics)))
    assert status["PipelineExecutionStatus"] == "Succeeded", steps
    job_name = steps["Train"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    job = client.describe_training_job(TrainingJobName=job_name)
    model_uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert model_uri == f"s3://{BUCKET}/training/{job['TrainingJobName']}/output/model.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(store.get_bytes(model_uri))) as tar:
        report = json.loads(tar.extractfile("model.json").read())
    assert report["args"] == {"epochs": 3, "name": "abalone", "layers": "[8, 4]"}
    assert report["argv"] == ["--epochs", "3", "--layers", "[8, 4]", "--name", "abalone"]
    assert report["rows"] == 3 and report["helper"] == 42
    env = report["env"]
    assert env["SM_CHANNEL_TRAIN"] == "/opt/ml/input/data/train"
    assert env["SM_MODEL_DIR"] == "/opt/ml/model"
    assert json.loads(env["SM_HPS"]) == {"epochs": 3, "name": "abalone", "layers": [8, 4]}
    assert json.loads(env["SM_CHANNELS"]) == ["train"]
    assert env["SM_HP_EPOCHS"] == "3" and env["SM_CURRENT_HOST"] == "algo-1"
    assert [(m["MetricName"], m["Value"]) for m in job["FinalMetricDataList"]] == [
        ("train:loss", 0.333)
    ]
    output = store.get_bytes(
        f"s3://{BUCKET}/training/{job['TrainingJobName']}/output/output.tar.gz"
    )
    with tarfile.open(fileobj=io.BytesIO(output)) as tar:
        assert tar.extractfile("report.txt").read() == b"extra"


def test_a_missing_entry_point_is_a_clear_failure(client):
    store = client.backend.store
    store.put_bytes(f"s3://{BUCKET}/code/sourcedir.tar.gz", tarball({"other.py": b""}))
    store.put_bytes(f"s3://{BUCKET}/data/train/data.csv", b"1,2\n")
    hyperparameters = {
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": f'"s3://{BUCKET}/code/sourcedir.tar.gz"',
    }
    _, status, steps = run(client, definition(training_step(hyperparameters, [])))
    assert status["PipelineExecutionStatus"] == "Failed"
    assert "the entry point 'train.py' is not in" in steps["Train"]["FailureReason"]


def test_a_failing_script_is_reported_by_its_own_error(client):
    # the reason is the script's traceback tail, as SageMaker's AlgorithmError: nothing of the
    # launcher's (no runpy RuntimeWarning about modules imported before the script ran)
    store = client.backend.store
    failing = b"import pandas, sklearn\nraise ValueError('no rows in the train channel')\n"
    store.put_bytes(f"s3://{BUCKET}/code/sourcedir.tar.gz", tarball({"train.py": failing}))
    store.put_bytes(f"s3://{BUCKET}/data/train/data.csv", b"1,2\n")
    hyperparameters = {
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": f'"s3://{BUCKET}/code/sourcedir.tar.gz"',
    }
    _, status, steps = run(client, definition(training_step(hyperparameters, [])))
    reason = steps["Train"]["FailureReason"]
    assert status["PipelineExecutionStatus"] == "Failed"
    assert reason.startswith("AlgorithmError: "), reason
    assert "ValueError: no rows in the train channel" in reason
    assert "RuntimeWarning" not in reason
