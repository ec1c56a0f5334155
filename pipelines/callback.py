"""A CLI for pipelines' Callback steps: see what waits, read the queue, complete a step by hand.

``pending`` lists the Callback steps that wait (token, execution, queue); ``receive`` reads
(and by default deletes) a queue's callback messages; ``success TOKEN --output Name=Value``
and ``failure TOKEN --reason TEXT`` complete a step, as a worker would with
``SendPipelineExecutionStepSuccess``/``Failure``. It is a plain client of the SageMaker and
SQS APIs, like ``run-pipeline`` and ``model-registry``: the same commands work on SageMaker
(with AWS credentials) and, with ``--local``, on the local target.
"""

from __future__ import annotations

import argparse
import json
from typing import Iterator

from pipelines import _cli


class CallbackCommandError(Exception):
    """A request the service refused (unknown token, step already completed, no queue)."""


def _outputs(pairs: list[str]) -> list[dict]:
    """``Name=Value`` pairs as OutputParameters."""
    parsed = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise argparse.ArgumentTypeError(f"--output {pair!r}: expected Name=Value")
        parsed.append({"Name": name, "Value": value})
    return parsed


def pending(sagemaker, pipeline: str = None) -> Iterator[dict]:
    """The Callback steps of executing pipelines that wait for their token."""
    names = (
        [pipeline]
        if pipeline
        else [
            p["PipelineName"]
            for page in sagemaker.get_paginator("list_pipelines").paginate()
            for p in page["PipelineSummaries"]
        ]
    )
    for name in names:
        executions = sagemaker.list_pipeline_executions(PipelineName=name)
        for execution in executions["PipelineExecutionSummaries"]:
            if execution["PipelineExecutionStatus"] not in ("Executing", "Stopping"):
                continue
            arn = execution["PipelineExecutionArn"]
            steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)
            for step in steps["PipelineExecutionSteps"]:
                callback = (step.get("Metadata") or {}).get("Callback")
                if callback and step["StepStatus"] in ("Executing", "Stopping"):
                    yield {
                        "CallbackToken": callback.get("CallbackToken"),
                        "PipelineExecutionArn": arn,
                        "StepName": step["StepName"],
                        "SqsQueueUrl": callback.get("SqsQueueUrl"),
                    }


def receive(sqs, queue: str, wait: int, keep: bool) -> list[dict]:
    """The queue's callback messages (token, execution, arguments, status)."""
    url = queue if "://" in queue else sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    bodies = []
    response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
    for message in response.get("Messages", []):
        bodies.append(json.loads(message["Body"]))
        if not keep:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def complete(sagemaker, args: argparse.Namespace) -> dict:
    if args.command == "success":
        return sagemaker.send_pipeline_execution_step_success(
            CallbackToken=args.token, OutputParameters=args.output
        )
    return sagemaker.send_pipeline_execution_step_failure(
        CallbackToken=args.token, FailureReason=args.reason
    )


def _table(rows: list[dict], columns: list[str]) -> str:
    if not rows:
        return "(none)"
    cells = [columns] + [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells)


def run(args: argparse.Namespace, clients) -> str:
    """The command's output; CallbackCommandError for what the service refused."""
    from botocore.exceptions import ClientError

    sagemaker, sqs = clients
    try:
        if args.command == "pending":
            rows = list(pending(sagemaker, args.pipeline))
            columns = ["CallbackToken", "StepName", "PipelineExecutionArn", "SqsQueueUrl"]
        elif args.command == "receive":
            rows = receive(sqs, args.queue, args.wait, args.keep)
            for row in rows:
                row["arguments"] = json.dumps(row.get("arguments", {}))
            columns = ["token", "status", "pipelineExecutionArn", "arguments"]
        else:
            arn = complete(sagemaker, args)["PipelineExecutionArn"]
            rows, columns = [{"PipelineExecutionArn": arn, "Sent": args.command}], ["Sent"]
            columns.append("PipelineExecutionArn")
    except ClientError as err:
        raise CallbackCommandError(err.response["Error"]["Message"]) from None
    if args.output_format == "json":
        return json.dumps(rows, indent=2)
    return _table(rows, columns)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "pipeline-callback", description="Lists and completes pipelines' Callback steps."
    )
    parser.add_argument("--local", action="store_true", help=_cli.LOCAL_HELP)
    parser.add_argument("--region", default=None, help="AWS region (default: your configuration's)")
    parser.add_argument(
        "--output-format", choices=("table", "json"), default="table", help="json for scripts"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    waiting = commands.add_parser("pending", help="Callback steps waiting for their token")
    waiting.add_argument("--pipeline", default=None, help="only this pipeline's executions")
    reading = commands.add_parser("receive", help="read a queue's callback messages")
    reading.add_argument("queue", help="the queue's name or URL")
    reading.add_argument("--wait", type=int, default=0, help="seconds to wait for a message")
    reading.add_argument("--keep", action="store_true", help="leave the messages in the queue")
    success = commands.add_parser("success", help="complete a step with its output parameters")
    success.add_argument("token")
    success.add_argument(
        "--output", action="append", default=[], metavar="NAME=VALUE", help="an output parameter"
    )
    failure = commands.add_parser("failure", help="fail a step")
    failure.add_argument("token")
    failure.add_argument("--reason", default="failed by hand (pipeline-callback)")
    return parser


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "success":
        try:
            args.output = _outputs(args.output)
        except argparse.ArgumentTypeError as err:
            _cli.usage_error(parser, str(err))
    _cli.select_target(args)
    if not args.local:
        _cli.require_credentials(parser)
    import boto3

    region = args.region or ("us-east-1" if args.local else None)
    session = boto3.Session(region_name=region)
    clients = (session.client("sagemaker"), session.client("sqs"))
    try:
        print(run(args, clients))
    except CallbackCommandError as err:
        parser.exit(1, f"{parser.prog}: error: {err}\n")


if __name__ == "__main__":
    main()
