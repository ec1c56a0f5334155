"""The approval worker of the tuning pipeline: an ordinary SQS consumer of its callback step.

Receives the ApproveModel step's message from the queue, approves the model when its RMSE is
within the threshold the message carries, and completes the step with
``SendPipelineExecutionStepSuccess`` (output ``Approval``: ``Approved`` or ``Rejected``).
Plain boto3: it runs as it is against SageMaker and SQS, or the local target
(``PIPELINES_TARGET=local python -m pipelines.abalone_tuning.approve``).
"""

import argparse
import json
import sys
import time

import boto3

from pipelines.abalone_tuning import APPROVAL_QUEUE


def decide(arguments: dict) -> str:
    """Approved when the best model's RMSE is within the threshold."""
    return "Approved" if float(arguments["rmse"]) <= float(arguments["threshold"]) else "Rejected"


def handle(sagemaker, body: dict) -> str:
    """Complete one callback step; a stopping execution's step is failed, as it asks."""
    token = body["token"]
    if body.get("status") == "Stopping":
        sagemaker.send_pipeline_execution_step_failure(
            CallbackToken=token, FailureReason="the execution was stopped"
        )
        return "Stopped"
    decision = decide(body["arguments"])
    sagemaker.send_pipeline_execution_step_success(
        CallbackToken=token, OutputParameters=[{"Name": "Approval", "Value": decision}]
    )
    return decision


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="approve", description=__doc__.splitlines()[0])
    parser.add_argument("--queue", default=APPROVAL_QUEUE, help="the queue's name or URL")
    parser.add_argument("--once", action="store_true", help="handle one message, then exit")
    parser.add_argument("--timeout", type=float, default=300, help="give up after this long (s)")
    args = parser.parse_args(argv)
    sqs, sagemaker = boto3.client("sqs"), boto3.client("sagemaker")
    url = args.queue if "://" in args.queue else sqs.get_queue_url(QueueName=args.queue)["QueueUrl"]
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])
        for message in messages:
            decision = handle(sagemaker, json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            print(f"{json.loads(message['Body'])['pipelineExecutionArn']}: {decision}", flush=True)
            if args.once:
                return 0
    print("no callback message arrived", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
