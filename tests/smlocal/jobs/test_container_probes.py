"""What a processing script sees of its container, under each mechanism and each launcher.

One script probes what scripts written for SageMaker do: copy trees, open SQLite databases,
write numpy text and bz2 CSVs, have XGBoost's C library save a model, run ``cat``, untar to
``..`` and read back relative to the working directory. With Linux namespaces every probe
passes; with the Python path map only what goes through Python does -- and either way the
fork server's processes and fresh interpreters give the same answers.
"""

import json

import pytest
from botocore.exceptions import ClientError

from tests.smlocal.jobs.requests import BUCKET, processing_job, put_script, wait_for

PROBES = """
import io, json, os, shutil, sqlite3, subprocess, tarfile
import numpy as np, pandas as pd, xgboost

base = "/opt/ml/processing"
out = f"{base}/out"
report = {}

def probe(function):
    try:
        function()
        report[function.__name__] = "ok"
    except Exception as err:
        report[function.__name__] = type(err).__name__

def copytree():
    shutil.copytree(f"{base}/input/code", f"{out}/copied")
    assert os.path.isfile(f"{out}/copied/probes.py")

def sqlite():
    db = sqlite3.connect(f"{out}/db.sqlite")
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()

def savetxt():
    np.savetxt(f"{out}/a.txt", np.arange(3))
    assert np.loadtxt(f"{out}/a.txt").tolist() == [0, 1, 2]

def bz2_csv():
    pd.DataFrame({"a": [1, 2]}).to_csv(f"{out}/f.csv.bz2", index=False)
    assert pd.read_csv(f"{out}/f.csv.bz2")["a"].tolist() == [1, 2]

def save_model():
    booster = xgboost.train({}, xgboost.DMatrix(np.eye(3), label=[0, 1, 2]), 1)
    booster.save_model(f"{out}/m.json")
    xgboost.Booster(model_file=f"{out}/m.json")

def cat():
    done = subprocess.run(["cat", f"{base}/input/code/probes.py"], capture_output=True)
    assert done.returncode == 0 and b"def cat" in done.stdout

def extract_to_parent():
    body = io.BytesIO()
    with tarfile.open(fileobj=body, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"model"))
    with open(f"{out}/model.tar.gz", "wb") as f:
        f.write(body.getvalue())
    with tarfile.open(f"{out}/model.tar.gz") as tar:
        tar.extractall(path="..")  # the customer-churn example's evaluation does this
    assert open("xgboost-model", "rb").read() == b"model"

def working_directory():
    assert os.getcwd() == "/"

def scandir_paths():
    assert sorted(e.path for e in os.scandir(f"{base}/input")) == [f"{base}/input/code"]

for function in (copytree, sqlite, savetxt, bz2_csv, save_model, cat, extract_to_parent,
                 working_directory, scandir_paths):
    probe(function)
json.dump(report, open(f"{out}/report.json", "w"))
"""
EVERY_PROBE = (
    "copytree",
    "sqlite",
    "savetxt",
    "bz2_csv",
    "save_model",
    "cat",
    "extract_to_parent",
    "working_directory",
    "scandir_paths",
)
# What Python's own functions do passes through the map; C libraries, other programs and
# ".." from the container's root do not.
UNDER_THE_MAP = {
    **{name: "ok" for name in EVERY_PROBE},
    "save_model": "XGBoostError",
    "cat": "AssertionError",
    "extract_to_parent": "FileNotFoundError",
    "working_directory": "AssertionError",
}


@pytest.fixture(params=["fork server", "spawn"])
def launcher(request, monkeypatch):
    monkeypatch.setenv("PIPELINES_LOCAL_FORKSERVER", "1" if request.param == "fork server" else "0")
    return request.param


def run_probes(aws, name: str) -> tuple[dict, dict]:
    script = put_script(aws.s3, "probes.py", PROBES)
    aws.sm.create_processing_job(**processing_job(name, script, outputs=["out"]))
    job = wait_for(
        lambda: aws.sm.describe_processing_job(ProcessingJobName=name), "ProcessingJobStatus"
    )
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    body = aws.s3.get_object(Bucket=BUCKET, Key=f"{name}/out/report.json")["Body"].read()
    record = json.loads((aws.home / "jobs" / name / "logs" / "process.json").read_text())
    return json.loads(body), record


def test_every_probe_passes_in_the_namespace_layout(aws, launcher, monkeypatch):
    monkeypatch.setenv("PIPELINES_LOCAL_CONTAINER", "namespaces")
    report, record = run_probes(aws, "probes-namespaces")
    assert report == {name: "ok" for name in EVERY_PROBE}
    assert record["container"] == "namespaces"
    assert record["launcher"] == launcher and record["writable_layer"] == "overlay"


def test_the_path_map_passes_what_python_does_the_same_under_both_launchers(
    aws, launcher, monkeypatch
):
    monkeypatch.setenv("PIPELINES_LOCAL_CONTAINER", "map")
    report, record = run_probes(aws, "probes-map")
    assert report == UNDER_THE_MAP
    assert (record["container"], record["launcher"]) == ("map", launcher)


def test_a_script_failing_on_an_opt_ml_path_under_the_map_is_told_why(aws, monkeypatch):
    monkeypatch.setenv("PIPELINES_LOCAL_CONTAINER", "map")
    script = put_script(
        aws.s3,
        "native.py",
        """
        import subprocess
        open("/opt/ml/processing/data.txt", "w").write("x")
        subprocess.run(["cat", "/opt/ml/processing/data.txt"], check=True)
        """,
    )
    aws.sm.create_processing_job(**processing_job("native", script))
    job = wait_for(
        lambda: aws.sm.describe_processing_job(ProcessingJobName="native"), "ProcessingJobStatus"
    )
    assert job["ProcessingJobStatus"] == "Failed"
    assert "ran with the Python path map, not Linux namespaces" in job["FailureReason"]


def test_a_shell_entry_point_is_refused_by_name_under_the_map(aws, monkeypatch):
    monkeypatch.setenv("PIPELINES_LOCAL_CONTAINER", "map")
    script = put_script(aws.s3, "run.sh", "echo hi\n")
    request = processing_job("shell", script)
    request["AppSpecification"]["ContainerEntrypoint"] = [
        "/bin/bash",
        "/opt/ml/processing/input/code/run.sh",
    ]
    with pytest.raises(ClientError, match="entry point '/bin/bash' is not supported locally"):
        aws.sm.create_processing_job(**request)
