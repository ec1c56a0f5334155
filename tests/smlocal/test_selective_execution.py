"""Selective execution and PipelineExperimentConfig, as StartPipelineExecution takes them.

A three-step pipeline: Make writes a number, Double doubles it, Report copies the result.
A selective execution of Double reads Make's output from the source execution; Make is
listed with the execution it came from, Report (downstream, not selected) does not run.
"""

import json

import pytest
from botocore.exceptions import ClientError

from tests.smlocal.builders import (
    ROLE,
    definition,
    output_of,
    processing,
    put_script,
    run,
)

MAKE = """
import sys
open("/opt/ml/processing/out/n.txt", "w").write(sys.argv[1])
"""
DOUBLE = """
n = int(open("/opt/ml/processing/input-0/n.txt").read())
open("/opt/ml/processing/out/n.txt", "w").write(str(2 * n))
"""
REPORT = DOUBLE.replace("2 * n", "n")


def pipeline(client, experiment=None, start_value="Start"):
    store = client.backend.store
    make = put_script(store, "make.py", MAKE)
    double = put_script(store, "double.py", DOUBLE)
    report = put_script(store, "report.py", REPORT)
    value = {"Get": f"Parameters.{start_value}"}
    steps = [
        processing("Make", make, outputs=["out"], arguments=[value]),
        processing(
            "Double",
            double,
            inputs=[(output_of("Make", "out"), "/opt/ml/processing/input-0")],
            outputs=["out"],
        ),
        processing(
            "Report",
            report,
            inputs=[(output_of("Double", "out"), "/opt/ml/processing/input-0")],
            outputs=["out"],
        ),
    ]
    parameters = [{"Name": "Start", "Type": "String", "DefaultValue": "21"}]
    body = json.loads(definition(*steps, parameters=parameters))
    if experiment is not None:
        body["PipelineExperimentConfig"] = experiment
    return json.dumps(body)


def number(client, execution_arn, name) -> int:
    """The number the step ``name`` of the execution wrote."""
    job_arn = listed(client, execution_arn)[name]["Metadata"]["ProcessingJob"]["Arn"]
    job = client.describe_processing_job(ProcessingJobName=job_arn.split("/")[-1])
    uri = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    return int(client.backend.store.get_bytes(f"{uri}/n.txt"))


def selective(client, selected, source=None, name="P", parameters=None):
    config = {"SelectedSteps": [{"StepName": s} for s in selected]}
    if source:
        config["SourcePipelineExecutionArn"] = source
    kwargs = {"PipelineName": name, "SelectiveExecutionConfig": config}
    if parameters:
        kwargs["PipelineParameters"] = [{"Name": k, "Value": v} for k, v in parameters.items()]
    arn = client.start_pipeline_execution(**kwargs)["PipelineExecutionArn"]
    client.backend.wait(arn, timeout=120)
    return arn, config


def listed(client, arn) -> dict:
    steps = client.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    return {s["StepName"]: s for s in steps}


@pytest.fixture
def source(client):
    """A full execution of the pipeline: the source of the selective ones."""
    arn, status, _ = run(client, pipeline(client))
    assert status["PipelineExecutionStatus"] == "Succeeded"
    return arn


def test_only_the_selected_steps_run_with_the_sources_results(client, source):
    arn, config = selective(client, ["Double"], source, parameters={"Start": "50"})
    described = client.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    assert described["SelectiveExecutionConfig"] == config
    steps = listed(client, arn)
    assert set(steps) == {"Make", "Double"}  # Report is downstream and not selected
    assert steps["Make"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": source}
    assert steps["Make"]["Metadata"] == listed(client, source)["Make"]["Metadata"]
    assert "SelectiveExecutionResult" not in steps["Double"]
    assert steps["Double"]["Metadata"] != listed(client, source)["Double"]["Metadata"]
    assert number(client, arn, "Double") == 42  # from the source's Make (21), not Start=50
    jobs = client.list_processing_jobs(MaxResults=100)["ProcessingJobSummaries"]
    assert len(jobs) == 4  # three for the source, one for Double


def test_a_first_step_needs_no_source(client, source):
    arn, _ = selective(client, ["Make"], parameters={"Start": "5"})
    assert (
        client.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Succeeded"
    )
    assert set(listed(client, arn)) == {"Make"}
    assert number(client, arn, "Make") == 5


@pytest.mark.parametrize(
    "selected,use_source,message",
    [
        (["Ghost"], True, r"Selected step\(s\) Ghost are not steps of pipeline P"),
        (["Make", "Report"], True, "Double lie between Make and Report"),
        (
            ["Double"],
            False,
            r"depend on steps that are not selected \(Make\): give a SourcePipelineExecutionArn",
        ),
    ],
)
def test_selections_sagemaker_refuses_are_refused(client, source, selected, use_source, message):
    before = client.list_pipeline_executions(PipelineName="P")["PipelineExecutionSummaries"]
    with pytest.raises(ClientError, match=message) as refused:
        selective(client, selected, source if use_source else None)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    after = client.list_pipeline_executions(PipelineName="P")["PipelineExecutionSummaries"]
    assert len(after) == len(before)


def test_a_source_that_cannot_provide_a_result_is_refused(client):
    body = pipeline(client)
    arn, status, _ = run(client, body, parameters={"Start": "not-a-number"})
    assert status["PipelineExecutionStatus"] == "Failed"  # Double could not read "not-a-number"
    with pytest.raises(ClientError, match=r"cannot provide the results of Double"):
        selective(client, ["Report"], arn)
    client.create_pipeline(PipelineName="Other", PipelineDefinition=body, RoleArn=ROLE)
    with pytest.raises(ClientError, match="is not an execution of pipeline Other"):
        selective(client, ["Double"], arn, name="Other")


def test_the_experiment_config_is_resolved_and_shown(client):
    arn, _, _ = run(
        client,
        pipeline(
            client,
            experiment={
                "ExperimentName": {"Get": "Execution.PipelineName"},
                "TrialName": {
                    "Std:Join": {
                        "On": "-",
                        "Values": [
                            "trial",
                            {"Get": "Parameters.Start"},
                            {"Get": "Execution.PipelineExecutionId"},
                        ],
                    }
                },
            },
        ),
        name="MyPipeline",
    )
    execution_id = arn.rsplit("/", 1)[1]
    described = client.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExperimentConfig"] == {
        "ExperimentName": "MyPipeline",
        "TrialName": f"trial-21-{execution_id}",
    }


def test_without_an_experiment_config_none_is_shown(client):
    arn, _, _ = run(client, pipeline(client, experiment=None), name="NoExperiment")
    described = client.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert "PipelineExperimentConfig" not in described
