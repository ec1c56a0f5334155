"""Lineage: what jobs record, the lineage API over it, and QueryLineage's directions and filters."""

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.smlocal.jobs.requests import BUCKET, processing_job, put_script, wait_for

COPY = """
import shutil
shutil.copy("/opt/ml/processing/input/data/data.csv", "/opt/ml/processing/out/data.csv")
"""
PREFIX = "arn:aws:sagemaker:us-east-1:000000000000"


@pytest.fixture
def aws(on_local_target):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return boto3.client("sagemaker"), s3


def copy_job(sm, s3, name: str, source: str) -> dict:
    """A processing job copying ``source`` to ``s3://<bucket>/<name>/out``."""
    script = put_script(s3, "copy.py", COPY)
    sm.create_processing_job(
        **processing_job(
            name,
            script,
            outputs=["out"],
            inputs=[("data", source, "/opt/ml/processing/input/data")],
        )
    )
    job = wait_for(
        lambda: sm.describe_processing_job(ProcessingJobName=name), "ProcessingJobStatus"
    )
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    return job


def artifacts_by_uri(sm) -> dict:
    summaries = sm.list_artifacts(MaxResults=100)["ArtifactSummaries"]
    return {a["Source"]["SourceUri"]: a for a in summaries}


def test_a_job_is_a_trial_component_between_its_inputs_and_outputs(aws):
    sm, s3 = aws
    s3.put_object(Bucket=BUCKET, Key="raw/data.csv", Body=b"1,2\n3,4\n")
    copy_job(sm, s3, "copy-1", f"s3://{BUCKET}/raw")

    component = sm.describe_trial_component(TrialComponentName="copy-1-aws-processing-job")
    assert component["Source"] == {
        "SourceArn": f"{PREFIX}:processing-job/copy-1",
        "SourceType": "SageMakerProcessingJob",
    }
    assert component["Status"]["PrimaryStatus"] == "Completed"
    assert component["InputArtifacts"]["data"]["Value"] == f"s3://{BUCKET}/raw"
    assert component["OutputArtifacts"]["out"]["Value"] == f"s3://{BUCKET}/copy-1/out"

    inputs = sm.list_associations(DestinationArn=component["TrialComponentArn"])
    kinds = sorted((a["SourceType"], a["AssociationType"]) for a in inputs["AssociationSummaries"])
    assert kinds == [
        ("Code", "ContributedTo"),
        ("DataSet", "ContributedTo"),
        ("Image", "ContributedTo"),
    ]
    (output,) = sm.list_associations(SourceArn=component["TrialComponentArn"])[
        "AssociationSummaries"
    ]
    assert (output["DestinationType"], output["AssociationType"]) == ("DataSet", "Produced")

    data = artifacts_by_uri(sm)[f"s3://{BUCKET}/raw"]
    described = sm.describe_artifact(ArtifactArn=data["ArtifactArn"])
    assert described["ArtifactType"] == "DataSet"
    ((source_type,),) = [described["Source"]["SourceTypes"]]
    assert source_type["SourceIdType"] == "Custom" and source_type["Value"].startswith("sha256:")


def test_the_next_jobs_input_is_the_same_artifact_and_the_chain_is_queryable(aws):
    sm, s3 = aws
    s3.put_object(Bucket=BUCKET, Key="raw/data.csv", Body=b"1,2\n3,4\n")
    copy_job(sm, s3, "first", f"s3://{BUCKET}/raw")
    copy_job(sm, s3, "second", f"s3://{BUCKET}/first/out")
    artifacts = artifacts_by_uri(sm)
    middle = artifacts[f"s3://{BUCKET}/first/out"]["ArtifactArn"]
    last = artifacts[f"s3://{BUCKET}/second/out"]["ArtifactArn"]
    raw = artifacts[f"s3://{BUCKET}/raw"]["ArtifactArn"]
    producers = sm.list_associations(DestinationArn=middle)["AssociationSummaries"]
    consumers = sm.list_associations(SourceArn=middle)["AssociationSummaries"]
    assert [p["SourceName"] for p in producers] == ["first-aws-processing-job"]
    assert [c["DestinationName"] for c in consumers] == ["second-aws-processing-job"]

    upstream = sm.query_lineage(StartArns=[last], Direction="Ascendants", IncludeEdges=True)
    arns = {v["Arn"] for v in upstream["Vertices"]}
    assert {raw, middle, last} <= arns
    assert {
        "SourceArn": raw,
        "DestinationArn": f"{PREFIX}:experiment-trial-component/first-aws-processing-job",
        "AssociationType": "ContributedTo",
    } in upstream[
        "Edges"
    ]  # noqa: E501
    jobs = sm.query_lineage(
        StartArns=[last], Direction="Ascendants", Filters={"LineageTypes": ["TrialComponent"]}
    )
    assert sorted(v["Type"] for v in jobs["Vertices"]) == ["ProcessingJob", "ProcessingJob"]
    downstream = sm.query_lineage(
        StartArns=[raw], Direction="Descendants", Filters={"Types": ["DataSet"]}, IncludeEdges=False
    )
    assert {v["Arn"] for v in downstream["Vertices"]} == {raw, middle, last}
    shallow = sm.query_lineage(StartArns=[raw], Direction="Descendants", MaxDepth=1)
    assert last not in {v["Arn"] for v in shallow["Vertices"]}
    # a job's own ARN starts a query from its trial component
    by_job = sm.query_lineage(
        StartArns=[f"{PREFIX}:processing-job/second"], Direction="Descendants"
    )
    assert last in {v["Arn"] for v in by_job["Vertices"]}


def test_the_same_uri_with_new_content_is_a_new_artifact(aws):
    sm, s3 = aws
    s3.put_object(Bucket=BUCKET, Key="raw/data.csv", Body=b"1,2\n")
    copy_job(sm, s3, "before", f"s3://{BUCKET}/raw")
    s3.put_object(Bucket=BUCKET, Key="raw/data.csv", Body=b"5,6\n")
    copy_job(sm, s3, "after", f"s3://{BUCKET}/raw")
    versions = sm.list_artifacts(SourceUri=f"s3://{BUCKET}/raw")["ArtifactSummaries"]
    assert len(versions) == 2
    hashes = {v["Source"]["SourceTypes"][0]["Value"] for v in versions}
    assert len(hashes) == 2


def test_the_lineage_api_on_entities_of_ones_own(aws):
    sm, _ = aws
    data = sm.create_artifact(
        ArtifactName="survey",
        Source={"SourceUri": "s3://elsewhere/survey.csv"},
        ArtifactType="DataSet",
        Properties={"owner": "me"},
    )["ArtifactArn"]
    review = sm.create_action(
        ActionName="review",
        Source={"SourceUri": "ticket-42"},
        ActionType="Review",
        Status="Completed",
    )["ActionArn"]
    project = sm.create_context(
        ContextName="project", Source={"SourceUri": "repo"}, ContextType="Project"
    )["ContextArn"]
    sm.add_association(SourceArn=data, DestinationArn=review, AssociationType="ContributedTo")
    sm.add_association(SourceArn=review, DestinationArn=project, AssociationType="AssociatedWith")

    assert sm.describe_artifact(ArtifactArn=data)["Properties"] == {"owner": "me"}
    assert sm.describe_action(ActionName="review")["ActionArn"] == review
    assert sm.describe_context(ContextName="project")["ContextType"] == "Project"
    assert [a["ActionName"] for a in sm.list_actions(ActionType="Review")["ActionSummaries"]] == [
        "review"
    ]
    (link,) = sm.list_associations(SourceType="DataSet", DestinationType="Review")[
        "AssociationSummaries"
    ]
    assert (link["SourceName"], link["DestinationName"]) == ("survey", "review")
    both = sm.query_lineage(StartArns=[review], Direction="Both")
    assert {v["Arn"] for v in both["Vertices"]} == {data, review, project}
    assert {v["LineageType"] for v in both["Vertices"]} == {"Artifact", "Action", "Context"}

    sm.update_artifact(
        ArtifactArn=data, Properties={"state": "checked"}, PropertiesToRemove=["owner"]
    )
    assert sm.describe_artifact(ArtifactArn=data)["Properties"] == {"state": "checked"}
    sm.delete_association(SourceArn=review, DestinationArn=project)
    assert sm.list_associations(SourceArn=review)["AssociationSummaries"] == []
    sm.delete_artifact(ArtifactArn=data)
    with pytest.raises(ClientError) as error:
        sm.describe_artifact(ArtifactArn=data)
    assert error.value.response["Error"]["Code"] == "ResourceNotFound"
    with pytest.raises(ClientError, match="already exists"):
        sm.create_context(
            ContextName="project", Source={"SourceUri": "repo"}, ContextType="Project"
        )
