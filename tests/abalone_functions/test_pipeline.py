"""The @step example end to end: ``run-pipeline --local -n pipelines.abalone_functions.pipeline``.

Preprocess, train and evaluate are the SDK's remote-function jobs run locally on the real
abalone data; the condition reads the MSE that ``evaluate`` returned.
"""

import json

import pytest

from tests.helpers import run_cli

pytestmark = pytest.mark.heavy  # scheduled first (tests/conftest.py)

MODULE = "pipelines.abalone_functions.pipeline"
BUCKET = "sagemaker-us-east-1-000000000000"
# The user's pip settings, which the jobs' installs take: offline, installed packages only.
OFFLINE_PIP = {"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": "/dev/null", "PIP_FIND_LINKS": ""}


def test_the_function_steps_run_with_the_returned_mse_deciding(local_home):
    result = run_cli(
        [
            "pipelines.run_pipeline",
            "-n",
            MODULE,
            "--local",
            "-kwargs",
            json.dumps({"function_image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/py:1"}),
            "-parameters",
            json.dumps({"NumRound": 20}),
        ],
        env=OFFLINE_PIP,
        no_network=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Execution status: Succeeded" in result.stdout
    arn = next(
        line.split(": ", 1)[1]
        for line in result.stdout.splitlines()
        if "PipelineExecutionArn:" in line
    )
    execution_id = arn.rsplit("/", 1)[-1]
    results = local_home / "s3" / BUCKET / "AbaloneFunctionsPipeline" / execution_id
    report = json.loads((results / "EvaluateAbaloneModel" / "results" / "results.json").read_text())
    assert 2.0 < report["Result"]["mse"] < 6.0  # XGBoost on abalone rings: about 4-5
    for name in ("PreprocessAbaloneData", "TrainAbaloneModel", "EvaluateAbaloneModel"):
        assert (results / name / "results" / "payload.pkl").is_file()
    assert "CheckMSEAbaloneEvaluation" in result.stdout and "AbaloneMSEFail" not in result.stdout
