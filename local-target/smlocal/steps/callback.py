"""Callback steps: a message to an SQS queue, then a wait for whoever completes the token.

The message is SageMaker's documented body (``token``, ``pipelineExecutionArn``,
``arguments``, ``status``) on the local SQS queue the step names (looked up by name: any
account in the URL). ``SendPipelineExecutionStepSuccess`` or ``...Failure`` with the token,
from any process (a worker, the ``pipeline-callback`` CLI), ends the step; while it waits,
ListPipelineExecutionSteps shows the token. As on SageMaker, stopping the execution sends a
second message with status ``Stopping`` and waits for the reply; here the wait is bounded
(``STOP_GRACE_SECONDS``), after which the step is Stopped.
"""

from __future__ import annotations

import json
import time

from smlocal.callbacks import FAILED, SUCCEEDED
from smlocal.definition import StepSpec
from smlocal.errors import DefinitionError, ExecutionStopped, StepFailed
from smlocal.queues import QueueError, parse_url
from smlocal.steps import outputs
from smlocal.steps.base import StepContext, StepOutcome

POLL_SECONDS = 0.1
STOP_GRACE_SECONDS = 30.0


def message(token: str, execution_arn: str, arguments: dict, status: str) -> str:
    """The SQS message body a callback step sends, in SageMaker's documented shape."""
    return json.dumps(
        {
            "token": token,
            "pipelineExecutionArn": execution_arn,
            "arguments": arguments,
            "status": status,
        }
    )


class CallbackExecutor:
    def validate(self, step: StepSpec) -> None:
        if not step.raw.get("SqsQueueUrl"):
            raise DefinitionError(f"step {step.name!r}: a Callback step needs an SqsQueueUrl")
        outputs.validate(step)

    def run(self, ctx: StepContext) -> StepOutcome:
        url = ctx.fields["SqsQueueUrl"]
        region, queue = parse_url(url, ctx.region)
        services = ctx.services
        try:
            services.queues.attributes(region, queue)
        except QueueError:
            raise StepFailed(
                f"ClientError: the SQS queue {url} does not exist on the local target; create "
                f"it first (the local target on): boto3.client('sqs').create_queue("
                f"QueueName={queue!r})"
            ) from None
        callback = services.callbacks.create(ctx.execution_arn, ctx.step.name, url)
        metadata = {"Callback": {"CallbackToken": callback.token, "SqsQueueUrl": url}}
        services.history.step_metadata(ctx.execution_arn, ctx.step.name, metadata)
        body = message(callback.token, ctx.execution_arn, ctx.arguments, "Executing")
        services.queues.send(region, queue, body)
        stopping_since = None
        while True:
            state = services.callbacks.get(callback.token)
            if state.status in (SUCCEEDED, FAILED):
                break
            if ctx.stop.is_set():
                if stopping_since is None:
                    stopping_since = time.monotonic()
                    stopping = message(callback.token, ctx.execution_arn, ctx.arguments, "Stopping")
                    services.queues.send(region, queue, stopping)
                elif time.monotonic() - stopping_since > STOP_GRACE_SECONDS:
                    services.callbacks.abandon(callback.token, "the execution was stopped")
                    raise ExecutionStopped("the execution was stopped")
            time.sleep(POLL_SECONDS)
        metadata["Callback"]["OutputParameters"] = state.outputs
        if state.status == FAILED:
            failure = StepFailed(state.failure_reason)
            failure.metadata = metadata
            raise failure
        if ctx.stop.is_set():
            raise ExecutionStopped("the execution was stopped")
        sent = {o["Name"]: o["Value"] for o in state.outputs}
        properties, _ = outputs.resolve(ctx.step, sent, "the callback's OutputParameters")
        return StepOutcome(properties, metadata)
