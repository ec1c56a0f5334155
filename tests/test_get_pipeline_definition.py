"""get-pipeline-definition: offline with --local, clear errors without credentials or with bad input."""

import json

from tests.helpers import run_cli

MODULE = "pipelines.abalone.pipeline"


def test_local_definition_makes_no_network_attempt(tmp_path):
    log = tmp_path / "network.log"
    result = run_cli(
        ["pipelines.get_pipeline_definition", "-n", MODULE, "--local"],
        env={"NO_NETWORK_LOG": str(log)},
        no_network=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == "2020-12-01"
    assert not log.exists(), log.read_text()
    assert result.stderr == ""  # no SDK INFO lines, telemetry notices or warnings


def test_file_output_and_kwargs(tmp_path, local_home):
    out = tmp_path / "definition.json"
    result = run_cli(
        [
            "pipelines.get_pipeline_definition",
            "-n",
            MODULE,
            "--local",
            "-f",
            str(out),
            "-kwargs",
            "{'region': 'eu-west-1', 'pipeline_name': 'Other'}",
        ],
        no_network=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    definition = json.loads(out.read_text())
    text = json.dumps(definition)
    assert (
        "sagemaker-servicecatalog-seedcode-eu-west-1" in text
        and "s3://sagemaker-eu-west-1-000000000000/Other/code/" in text
    )
    scripts = list(
        (local_home / "s3" / "sagemaker-eu-west-1-000000000000" / "Other" / "code").rglob("*.py")
    )
    assert sorted(p.name for p in scripts) == ["evaluate.py", "preprocess.py"]


def test_without_local_and_without_credentials_one_line_suggests_local():
    result = run_cli(["pipelines.get_pipeline_definition", "-n", MODULE], no_network=True)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no AWS credentials" in lines[0] and "--local" in lines[0]


def test_without_local_a_missing_role_says_how_to_pass_one():
    result = run_cli(
        ["pipelines.get_pipeline_definition", "-n", MODULE, "--kwargs", '{"region": "us-east-1"}'],
        env={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"},
        no_network=True,
    )
    assert result.returncode == 2
    assert (
        "no IAM role" in result.stderr
        and "--kwargs" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_missing_module_name_prints_help():
    result = run_cli(["pipelines.get_pipeline_definition"])
    assert result.returncode == 2 and "--module-name" in result.stdout


def test_bad_input_is_one_line_exit_2(tmp_path):
    cases = [
        (["-n", "pipelines.nope", "--local"], "no module named 'pipelines.nope'"),
        (["-n", "pipelines._utils", "--local"], "has no get_pipeline function"),
        (["-n", MODULE, "--local", "--kwargs", "{region: x}"], "--kwargs: not valid JSON"),
        (
            ["-n", MODULE, "--local", "--kwargs", '{"sagemaker_project_arn": "x"}'],
            "takes no argument 'sagemaker_project_arn'",
        ),
        (
            ["-n", MODULE, "--local", "-f", str(tmp_path / "missing" / "d.json")],
            "--file-name: folder ",
        ),
    ]
    for args, message in cases:
        result = run_cli(["pipelines.get_pipeline_definition", *args], no_network=True)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
