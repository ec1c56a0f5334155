"""The SDK's poll loops wake when what they wait on changes, not after their fixed delay."""

import time

import boto3
import botocore.waiter

import smlocal
from smlocal import polling
from tests.smlocal.builders import ROLE, definition, processing, put_script, run

SLOW_SCRIPT = "import time\ntime.sleep(1.5)\n"
FAIL = {"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "done"}}
# The waiter execution.wait() builds, with the SDK's default delay.
WAITER = botocore.waiter.WaiterModel(
    {
        "version": 2,
        "waiters": {
            "Done": {
                "delay": 30,
                "maxAttempts": 60,
                "operation": "DescribePipelineExecution",
                "acceptors": [
                    {
                        "expected": status,
                        "matcher": "path",
                        "state": "success" if status == "Succeeded" else "failure",
                        "argument": "PipelineExecutionStatus",
                    }
                    for status in ("Succeeded", "Failed", "Stopped")
                ],
            }
        },
    }
)


def test_waiters_get_the_local_clock_and_keep_the_real_one_for_the_rest(on_local_target):
    assert botocore.waiter.time is polling.CLOCK
    assert polling.CLOCK.perf_counter is time.perf_counter


def test_sleep_is_real_without_a_described_resource(on_local_target):
    polling._last.described = None
    started = time.monotonic()
    polling.sleep(0.3)
    assert time.monotonic() - started >= 0.3


def test_sleep_ends_at_once_when_the_described_resource_is_final(client):
    arn, status, _ = run(client, definition(FAIL))
    assert status["PipelineExecutionStatus"] == "Failed"
    with smlocal.local_target(home=client.home):
        boto3.client("sagemaker").describe_pipeline_execution(PipelineExecutionArn=arn)
        started, clock = time.monotonic(), polling.CLOCK.time()
        polling.sleep(30)
    assert time.monotonic() - started < 1
    assert polling.CLOCK.time() - clock >= 30  # the loop sees its 30 s pass


def test_sleep_ends_when_the_described_status_changes(client):
    arn, _, _ = run(client, definition(FAIL))
    with smlocal.local_target(home=client.home):
        # as if the loop had last seen it running: the store now says otherwise
        polling._last.described = polling.Described(
            "sagemaker",
            "DescribePipelineExecution",
            {"PipelineExecutionArn": arn},
            "us-east-1",
            (("PipelineExecutionStatus", "Executing"),),
        )
        started = time.monotonic()
        polling.sleep(30)
    assert time.monotonic() - started < 2


def test_the_sdk_waiter_returns_soon_after_the_execution_ends(client):
    script = put_script(client.backend.store, "slow.py", SLOW_SCRIPT)
    with smlocal.local_target(home=client.home):
        sm = boto3.client("sagemaker")
        sm.create_pipeline(
            PipelineName="Slow",
            PipelineDefinition=definition(processing("Sleep", script)),
            RoleArn=ROLE,
        )
        arn = sm.start_pipeline_execution(PipelineName="Slow")["PipelineExecutionArn"]
        started = time.monotonic()
        botocore.waiter.create_waiter_with_client("Done", WAITER, sm).wait(PipelineExecutionArn=arn)
        waited = time.monotonic() - started
        assert (
            sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
            == "Succeeded"
        )
    assert 1.5 < waited < 10  # the step sleeps 1.5 s; a fixed 30 s delay would take 30
