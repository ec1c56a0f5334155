"""CloudWatch Logs on the local target: the log streams of SageMaker's jobs, as the SDK reads them."""

import re
import time

import boto3
import pytest
from botocore.exceptions import ClientError

import smlocal
from tests.smlocal.jobs.requests import BUCKET, processing_job, put_script, wait_for

GROUP = "/aws/sagemaker/ProcessingJobs"
# Lines come a little apart, so a reader catches the job in the middle of its output.
TALK = """
import sys, time
for i in range(6):
    print(f"line {i}", flush=True)
    if i == 2:
        print("a warning", file=sys.stderr, flush=True)
    time.sleep(0.15)
print("no newline at the end", end="")
"""
LINES = [
    "line 0",
    "line 1",
    "line 2",
    "a warning",
    "line 3",
    "line 4",
    "line 5",
    "no newline at the end",
]


@pytest.fixture
def clients(tmp_path):
    with smlocal.local_target(home=tmp_path):
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        yield boto3.client("sagemaker"), s3, boto3.client("logs")


def run_job(sm, s3, name: str) -> None:
    sm.create_processing_job(**processing_job(name, put_script(s3, "talk.py", TALK)))


def finished(sm, name: str) -> dict:
    return wait_for(
        lambda: sm.describe_processing_job(ProcessingJobName=name), "ProcessingJobStatus"
    )


def test_the_sdks_tailing_prints_each_line_once_while_the_job_runs(clients):
    """The SDK's own flush loop, called while the job writes: every line once, in order."""
    from sagemaker.session import _flush_log_streams

    sm, s3, logs = clients
    run_job(sm, s3, "talker")
    printed, positions = [], {}
    flushes = 0
    while True:
        done = (
            sm.describe_processing_job(ProcessingJobName="talker")["ProcessingJobStatus"]
            != "InProgress"
        )
        _flush_log_streams(
            [], 1, logs, GROUP, "talker", positions, False, lambda i, m: printed.append(m)
        )
        flushes += 1
        if done:
            break
        time.sleep(0.05)
    assert printed == LINES
    assert flushes > 3  # it did read a job still writing


def test_streams_are_named_and_listed_as_sagemaker_names_them(clients):
    sm, s3, logs = clients
    for name in ("job-b", "job-a"):  # one after the other: job-b's last event is the older
        run_job(sm, s3, name)
        finished(sm, name)

    streams = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    names = [s["logStreamName"] for s in streams]
    assert len(names) == 2 and all(re.fullmatch(r"job-[ab]/algo-1-\d{10}", n) for n in names)
    assert names == sorted(names)
    descending = logs.describe_log_streams(logGroupName=GROUP, descending=True)["logStreams"]
    assert [s["logStreamName"] for s in descending] == names[::-1]
    (only,) = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="job-a/")[
        "logStreams"
    ]
    assert only["logStreamName"].startswith("job-a/")
    assert only["creationTime"] <= only["firstEventTimestamp"] <= only["lastEventTimestamp"]
    by_time = logs.describe_log_streams(logGroupName=GROUP, orderBy="LastEventTime")["logStreams"]
    assert [s["logStreamName"].split("/")[0] for s in by_time] == ["job-b", "job-a"]

    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.describe_log_streams(
            logGroupName=GROUP, orderBy="LastEventTime", logStreamNamePrefix="job"
        )
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.describe_log_streams(logGroupName="/aws/lambda/something")
    assert logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs")["logStreams"] == []


def test_get_log_events_pages_forward_and_backward_without_repeats(clients):
    sm, s3, logs = clients
    run_job(sm, s3, "pager")
    finished(sm, "pager")
    (stream,) = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    args = {"logGroupName": GROUP, "logStreamName": stream["logStreamName"]}

    seen, token = [], None
    while True:
        page = logs.get_log_events(
            **args, startFromHead=True, limit=3, **({"nextToken": token} if token else {})
        )
        seen += [e["message"] for e in page["events"]]
        if not page["events"]:
            assert page["nextForwardToken"] == token  # the end: same token, no events
            break
        token = page["nextForwardToken"]
    assert seen == LINES

    tail = logs.get_log_events(**args, limit=2)  # newest events without startFromHead
    assert [e["message"] for e in tail["events"]] == LINES[-2:]
    before = logs.get_log_events(**args, limit=2, nextToken=tail["nextBackwardToken"])
    assert [e["message"] for e in before["events"]] == LINES[-4:-2]

    events = logs.get_log_events(**args, startFromHead=True)["events"]
    later = [e for e in events if e["timestamp"] > events[0]["timestamp"]]
    from_time = logs.get_log_events(**args, startFromHead=True, startTime=later[0]["timestamp"])
    assert [e["message"] for e in from_time["events"]] == [e["message"] for e in later]
    assert all(e["ingestionTime"] >= e["timestamp"] for e in events)

    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_log_events(logGroupName=GROUP, logStreamName="pager/algo-1-1")
    with pytest.raises(ClientError, match="nextToken is invalid"):
        logs.get_log_events(**args, nextToken="garbage")


def test_filter_log_events_searches_a_groups_streams(clients):
    sm, s3, logs = clients
    run_job(sm, s3, "filtered")
    finished(sm, "filtered")

    def messages(**kwargs):
        return [
            e["message"] for e in logs.filter_log_events(logGroupName=GROUP, **kwargs)["events"]
        ]

    assert messages() == LINES
    assert messages(filterPattern="line") == [m for m in LINES if "line" in m]
    assert messages(filterPattern='"a warning"') == ["a warning"]
    assert messages(filterPattern="?warning ?newline") == ["a warning", "no newline at the end"]
    assert messages(filterPattern="line -newline") == LINES[:3] + LINES[4:7]
    assert messages(logStreamNamePrefix="other") == []
    with pytest.raises(logs.exceptions.InvalidParameterException, match="not supported locally"):
        messages(filterPattern="{ $.level = 1 }")
