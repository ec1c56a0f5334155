"""run-pipeline --local: the abalone pipeline end to end on this machine, on the real data."""

import io
import json
import os
import signal
import sqlite3
import tarfile

import pytest

from tests.helpers import ABALONE_CSV, LocalSageMaker, run_cli, start_slow_run

pytestmark = pytest.mark.heavy  # scheduled first (tests/conftest.py)

MODULE = "pipelines.abalone.pipeline"


def run_local(*extra, env=None):
    return run_cli(
        ["pipelines.run_pipeline", "-n", MODULE, "--local", *extra], env=env, no_network=True
    )


def artifacts(home, stdout):
    """(execution id, MSE report, model.tar.gz bytes) of the run printed in ``stdout``."""
    arn = next(
        line.split(": ", 1)[1] for line in stdout.splitlines() if "PipelineExecutionArn:" in line
    )
    execution_id = arn.rsplit("/", 1)[-1]
    bucket = home / "s3" / "sagemaker-us-east-1-000000000000"
    report = json.loads(
        (
            bucket
            / "AbalonePipeline"
            / execution_id
            / "EvaluateAbaloneModel"
            / "output"
            / "evaluation"
            / "evaluation.json"
        ).read_text()
    )
    (model,) = (bucket / "Abalone" / "AbaloneTrain").glob(
        f"pipelines-{execution_id}-*/output/model.tar.gz"
    )
    return execution_id, report, model.read_bytes()


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    # module-scoped: runs before the per-test environment, so it states its own
    result = run_local(
        env={
            "PIPELINES_LOCAL_HOME": str(home),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return home, result


def test_runs_end_to_end_and_registers_a_version(first_run):
    home, result = first_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for section in (
        "###### Creating/updating the SageMaker Pipeline AbalonePipeline",
        "###### Created/Updated SageMaker Pipeline: Response received:",
        "###### Execution started with PipelineExecutionArn: "
        "arn:aws:sagemaker:us-east-1:000000000000:pipeline/abalonepipeline/execution/",
        "Waiting for the execution to finish...",
        "#####Execution completed. Execution step details:",
        "Execution status: Succeeded",
    ):
        assert section in out
    assert '"Steps"' not in out  # the definition is printed only when asked
    steps_json = out.split("Execution step details:\n", 1)[1].split("\n\nStep logs:", 1)[0]
    steps = json.loads(steps_json)
    assert [(s["StepName"], s["StepStatus"]) for s in steps] == [
        ("RegisterAbaloneModel-RegisterModel", "Succeeded"),
        ("CheckMSEAbaloneEvaluation", "Succeeded"),
        ("EvaluateAbaloneModel", "Succeeded"),
        ("TrainAbaloneModel", "Succeeded"),
        ("PreprocessAbaloneData", "Succeeded"),
    ]
    with sqlite3.connect(home / "state.sqlite") as db:
        rows = db.execute(
            "SELECT group_name, version, approval_status FROM model_packages"
        ).fetchall()
    assert rows == [("AbalonePackageGroup", 1, "PendingManualApproval")]
    _, report, model = artifacts(home, out)
    assert 3.5 < report["regression_metrics"]["mse"]["value"] < 6.0
    with tarfile.open(fileobj=io.BytesIO(model)) as tar:
        assert tar.getnames() == ["xgboost-model"]
    assert result.stderr == ""


def newest_execution_id(home) -> str:
    """The id of the newest execution, asked of the local target (quiet runs print no ARN)."""
    summary, *_ = LocalSageMaker(home).list_pipeline_executions(
        PipelineName="AbalonePipeline", SortOrder="Descending"
    )["PipelineExecutionSummaries"]
    return summary["PipelineExecutionArn"].rsplit("/", 1)[-1]


def test_a_second_run_is_reproducible_and_quiet_prints_the_outcome_alone(first_run):
    home, first = first_run
    second = run_local("--quiet", env={"PIPELINES_LOCAL_HOME": str(home)})
    assert second.returncode == 0, second.stderr
    assert second.stdout == "Execution status: Succeeded\n" and second.stderr == ""
    id1, report1, model1 = artifacts(home, first.stdout)
    id2, report2, model2 = artifacts(home, f"PipelineExecutionArn: {newest_execution_id(home)}")
    assert id1 != id2
    assert report1 == report2
    assert model1 == model2
    with sqlite3.connect(home / "state.sqlite") as db:
        assert db.execute("SELECT max(version) FROM model_packages").fetchone() == (2,)


def test_threshold_override_fails_with_the_fail_steps_message(local_home):
    result = run_local(
        "--parameters",
        '{"MseThreshold": 3.5, "ModelApprovalStatus": "Approved"}',
        "--print-definition",
    )
    assert result.returncode == 1
    printed = result.stdout.split("following definition:\n", 1)[1].split("\n\n###### Created", 1)[0]
    assert json.loads(printed)["Version"] == "2020-12-01"  # the definition, when asked
    assert (
        "Execution failed at step AbaloneMSEAboveThreshold: Execution failed: the model's MSE"
        in result.stderr
    )
    assert "is above the threshold 3.5" in result.stderr
    assert "Execution status: Failed" in result.stdout
    assert not (local_home / "state.sqlite").exists() or sqlite3.connect(
        local_home / "state.sqlite"
    ).execute("SELECT count(*) FROM model_packages").fetchone() == (0,)
    _, report, _ = artifacts(local_home, result.stdout)  # what was made is kept
    assert report["regression_metrics"]["mse"]["value"] > 3.5


@pytest.mark.parametrize("url", [str(ABALONE_CSV), ABALONE_CSV.as_uri()])
def test_input_may_be_a_local_path_or_file_uri(local_home, url):
    result = run_local("--parameters", json.dumps({"InputDataUrl": url}))
    assert result.returncode == 0, result.stderr
    _, report, _ = artifacts(local_home, result.stdout)
    assert report["regression_metrics"]["mse"]["value"] < 6.0


def test_a_bad_parameter_is_one_line_exit_2(local_home):
    result = run_local("--parameters", '{"MseThreshold": "high"}')
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "run-pipeline: error: --parameters: parameter 'MseThreshold' is Float; 'high' is not a valid Float value"
    ]
    unknown = run_local("--parameters", '{"Threshold": 1}')
    assert unknown.returncode == 2 and "unknown parameter(s) Threshold" in unknown.stderr


def test_offline_the_default_input_is_the_copy_shipped_with_the_local_target(first_run):
    """No network (the run's sockets refuse anything but loopback), no download, no setting."""
    home, result = first_run
    execution_id, _, _ = artifacts(home, result.stdout)
    (copied,) = (home / "executions" / execution_id / "PreprocessAbaloneData").glob(
        "container/opt/ml/processing/input/**/abalone-dataset.csv"
    )
    assert copied.read_bytes() == ABALONE_CSV.read_bytes()


def test_fresh_interpreters_give_the_same_model_as_the_fork_server(first_run):
    home, first = first_run
    spawned = run_local(env={"PIPELINES_LOCAL_HOME": str(home), "PIPELINES_LOCAL_FORKSERVER": "0"})
    assert spawned.returncode == 0, spawned.stderr
    first_id, report1, model1 = artifacts(home, first.stdout)
    spawned_id, report2, model2 = artifacts(home, spawned.stdout)
    assert (report1, model1) == (report2, model2)
    launchers = {
        json.loads(p.read_text())["launcher"]
        for p in (home / "executions" / spawned_id).glob("*/logs/process.json")
    }
    assert launchers == {"spawn"}
    first_launchers = {
        json.loads(p.read_text())["launcher"]
        for p in (home / "executions" / first_id).glob("*/logs/process.json")
    }
    assert first_launchers == {"fork server"}


def test_ctrl_c_stops_the_execution_and_its_processes(local_home):
    proc, sleeper, _ = start_slow_run(local_home)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Interrupted: stopping the execution..." in err
    assert "Execution status: Stopped" in out
    assert '"StepStatus": "Stopped"' in out
    with pytest.raises(ProcessLookupError):
        os.kill(sleeper, 0)
