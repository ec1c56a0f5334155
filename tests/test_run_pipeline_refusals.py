"""Bad input refused in one line, exit 2, before the pipeline is created or updated.

A definition the local target cannot run (every step at fault named at once), and
``--parameters`` the definition's Parameters cannot take, on the local target and on
SageMaker (moto on 127.0.0.1).
"""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.helpers import LocalSageMaker, run_cli

pytestmark = pytest.mark.heavy  # scheduled first (tests/conftest.py)

UNRUNNABLE = "tests.fixtures.unrunnable_pipeline"
PARAMETERS = "tests.fixtures.parameters_pipeline"
ROLE = "arn:aws:iam::123456789012:role/PipelineRole"
BAD_PARAMETERS = [
    (
        {"ProcessingInstanceCount": "two"},
        "--parameters: parameter 'ProcessingInstanceCount' is Integer; 'two' is not a valid Integer value",
    ),
    (
        {"Nope": 1},
        "--parameters: unknown parameter(s) Nope; the pipeline declares: "
        "ProcessingInstanceCount, MseThreshold, Register, ModelApprovalStatus",
    ),
    (
        {"ModelApprovalStatus": "Rejected"},
        "--parameters: parameter 'ModelApprovalStatus': 'Rejected' is not one of "
        "PendingManualApproval, Approved",
    ),
]

IDS = ["type", "unknown", "enum"]


def run_local(cli, module, *extra):
    return run_cli([cli, "-n", module, "--local", *extra], no_network=True)


def assert_one_line(result, prog):
    """Exit 2, nothing on stdout, a single ``prog: error:`` line on stderr; that line."""
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{prog}: error: ")
    return line[len(f"{prog}: error: ") :]


def local_pipelines(home) -> list:
    return LocalSageMaker(home).list_pipelines()["PipelineSummaries"]


def assert_every_unrunnable_step_named(message):
    assert message.startswith("the local target cannot run 3 steps: ")
    assert (
        "'Prep' (a processing job without ContainerEntrypoint runs the image's own program"
        in message
    )
    assert "'Tune' (The Hyperband strategy is not supported locally" in message
    assert "'Cluster' (type EMR: a step on an Amazon EMR cluster)" in message


def test_run_pipeline_names_every_unrunnable_step_and_creates_nothing(local_home):
    result = run_local("pipelines.run_pipeline", UNRUNNABLE)
    assert_every_unrunnable_step_named(assert_one_line(result, "run-pipeline"))
    assert local_pipelines(local_home) == []
    with pytest.raises(ClientError, match="does not exist"):
        LocalSageMaker(local_home).describe_pipeline(PipelineName="UnrunnablePipeline")


def test_the_local_target_in_the_environment_refuses_the_same(local_home):
    result = run_cli(
        ["pipelines.run_pipeline", "-n", UNRUNNABLE],
        env={"PIPELINES_TARGET": "local"},
        no_network=True,
    )
    assert_every_unrunnable_step_named(assert_one_line(result, "run-pipeline"))
    assert local_pipelines(local_home) == []


def test_get_pipeline_definition_names_every_unrunnable_step(local_home):
    result = run_local("pipelines.get_pipeline_definition", UNRUNNABLE)
    assert_every_unrunnable_step_named(assert_one_line(result, "get-pipeline-definition"))


def test_without_local_the_definition_is_printed_as_it_is(local_home):
    result = run_cli(
        [
            "pipelines.get_pipeline_definition",
            "-n",
            UNRUNNABLE,
            "--kwargs",
            json.dumps({"region": "us-east-1", "role": ROLE}),
        ],
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
        no_network=True,
    )
    assert result.returncode == 0, result.stderr
    steps = [s["Type"] for s in json.loads(result.stdout)["Steps"]]
    assert steps == ["Processing", "Tuning", "EMR"]


@pytest.mark.parametrize("overrides,expected", BAD_PARAMETERS, ids=IDS)
def test_bad_parameters_on_the_local_target_create_nothing(local_home, overrides, expected):
    result = run_local("pipelines.run_pipeline", PARAMETERS, "--parameters", json.dumps(overrides))
    assert assert_one_line(result, "run-pipeline") == expected
    assert local_pipelines(local_home) == []


def test_good_parameters_reach_the_execution(local_home):
    overrides = {"ProcessingInstanceCount": 2, "Register": True, "ModelApprovalStatus": "Approved"}
    result = run_local("pipelines.run_pipeline", PARAMETERS, "--parameters", json.dumps(overrides))
    assert result.returncode == 1, result.stderr  # its one step is a Fail step
    assert "Execution failed at step Report: 2 6.0 true Approved" in result.stderr
    assert [p["PipelineName"] for p in local_pipelines(local_home)] == ["ParametersPipeline"]


@pytest.mark.parametrize("overrides,expected", BAD_PARAMETERS, ids=IDS)
def test_bad_parameters_on_sagemaker_create_nothing(moto_server, overrides, expected):
    result = run_cli(
        [
            "pipelines.run_pipeline",
            "-n",
            PARAMETERS,
            "--role-arn",
            ROLE,
            "--kwargs",
            json.dumps({"region": "us-east-1", "role": ROLE}),
            "--parameters",
            json.dumps(overrides),
        ],
        no_network=True,
    )
    assert assert_one_line(result, "run-pipeline") == expected
    sm = boto3.client("sagemaker", region_name="us-east-1")
    assert sm.list_pipelines()["PipelineSummaries"] == []


def test_step_processes_are_warmed_only_once_the_arguments_parse(local_home, monkeypatch, capsys):
    """The fork server's imports (seconds of CPU) start beside the SDK's, not for a typo."""
    from pipelines import run_pipeline
    from smlocal.steps import process

    started = []
    monkeypatch.setattr(process, "prestart", lambda: started.append("warming"))
    with pytest.raises(SystemExit) as refused:
        run_pipeline.main(["-n", PARAMETERS, "--local", "--parameters", "{not json"])
    assert refused.value.code == 2 and "--parameters" in capsys.readouterr().err
    assert started == []
    with pytest.raises(SystemExit) as refused:  # refused by the definition, after the SDK loads
        run_pipeline.main(["-n", PARAMETERS, "--local", "--parameters", '{"Nope": 1}'])
    assert refused.value.code == 2 and "unknown parameter(s) Nope" in capsys.readouterr().err
    assert started == ["warming"]
