"""A CLI over real-time endpoints: deploy approved model versions, list, invoke and stop endpoints.

The same commands on SageMaker (boto3, your credentials) and on the local target (``--local``),
where each endpoint is a model server on 127.0.0.1 that runs until it is stopped: ``list``
shows its URL for ``curl``, ``stop`` drains and ends it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Optional

from pipelines import _cli
from pipelines.deploy import DeployError, Deployer, Deployment

LOCAL_NOTICE = "PIPELINES_LOCAL_ENDPOINT_NOTICE"  # the local target's own URL notice: off


class EndpointCommandError(Exception):
    """A request about endpoints that cannot be done; one line for the user."""


def add_deploy_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a deployment (shared with ``model-registry approve --deploy``)."""
    parser.add_argument(
        "--role-arn",
        default=None,
        help="execution role of the model (default: $SAGEMAKER_PIPELINE_ROLE_ARN; the local "
        "target's own role with --local)",
    )
    parser.add_argument("--instance-type", default="ml.m5.large")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="with --local: the port on 127.0.0.1 a new endpoint listens on (default: a free one)",
    )


def deployer(args: argparse.Namespace, client, parser: argparse.ArgumentParser) -> Deployer:
    """A Deployer for the parsed options; a missing role or a misplaced --port is a usage error."""
    role = args.role_arn or os.environ.get("SAGEMAKER_PIPELINE_ROLE_ARN")
    if not role and args.local:
        from smlocal import config

        role = config.LOCAL_ROLE_ARN
    if not role:
        _cli.usage_error(parser, "--role-arn is required on SageMaker (the model's execution role)")
    if args.port is not None and not args.local:
        _cli.usage_error(parser, "--port applies to the local target only (--local)")
    quiet = args.output == "json" or not sys.stderr.isatty()
    progress = (lambda message: None) if quiet else _cli.stderr
    return Deployer(
        client,
        role,
        instance_type=args.instance_type,
        waiter_delay=1 if args.local else 15,
        progress=progress,
    )


def check_port(args: argparse.Namespace) -> None:
    """With --local and --port: refuse a port in use before anything is changed."""
    import socket

    if not args.local or args.port is None:
        return
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", args.port))
        except OSError:
            raise DeployError(f"port {args.port} on 127.0.0.1 is in use; choose another") from None


def local_url(endpoint: str, local: bool, region: Optional[str]) -> Optional[str]:
    if not local:
        return None
    from smlocal.endpoints import local_url as url

    return url(endpoint, region)


def render_deployment(deployment: Deployment, url: Optional[str]) -> str:
    action = "created" if deployment.created else "updated"
    if not deployment.model_name:
        action = "unchanged"
    lines = [
        f"endpoint {deployment.endpoint} {action}: serves version {deployment.version} "
        f"of {deployment.group}"
    ]
    if url:
        lines.append(f"URL: {url}")
        lines.append(f"try: curl -s -H 'Content-Type: text/csv' --data-binary @row.csv {url}")
    return "\n".join(lines)


def _json(value) -> str:
    return json.dumps(
        value, indent=2, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)
    )


def _table(headers: list[str], rows: list[list]) -> str:
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


# commands
def list_endpoints(client, local: bool, region: Optional[str]) -> list[dict]:
    rows, kwargs = [], {}
    while True:
        page = client.list_endpoints(**kwargs)
        for summary in page.get("Endpoints", []):
            described = client.describe_endpoint(EndpointName=summary["EndpointName"])
            rows.append(
                {
                    "EndpointName": described["EndpointName"],
                    "EndpointStatus": described["EndpointStatus"],
                    "EndpointConfigName": described.get("EndpointConfigName"),
                    "Url": local_url(described["EndpointName"], local, region),
                    "CreationTime": described.get("CreationTime"),
                    **(
                        {"FailureReason": described["FailureReason"]}
                        if described.get("FailureReason")
                        else {}
                    ),
                }
            )
        if not page.get("NextToken"):
            return rows
        kwargs["NextToken"] = page["NextToken"]


def render_endpoints(rows: list[dict]) -> str:
    if not rows:
        return "no endpoints"
    return _table(
        ["endpoint", "status", "config", "url", "created"],
        [
            [
                r["EndpointName"],
                r["EndpointStatus"],
                r["EndpointConfigName"],
                r["Url"],
                r["CreationTime"].strftime("%Y-%m-%d %H:%M:%S") if r["CreationTime"] else "",
            ]
            for r in rows
        ],
    )


def stop(client, names: list[str], everything: bool) -> list[str]:
    """Delete endpoints (locally: drain and end their servers); the names stopped."""
    from botocore.exceptions import ClientError

    if everything:
        names = [row["EndpointName"] for row in list_endpoints(client, False, None)]
    for name in names:
        try:
            client.delete_endpoint(EndpointName=name)
        except ClientError as err:
            raise EndpointCommandError(err.response["Error"]["Message"]) from None
    return names


def invoke(runtime, name: str, body: bytes, content_type: str, accept: Optional[str]) -> bytes:
    from botocore.exceptions import ClientError

    kwargs = {"EndpointName": name, "Body": body, "ContentType": content_type}
    if accept:
        kwargs["Accept"] = accept
    try:
        return runtime.invoke_endpoint(**kwargs)["Body"].read()
    except ClientError as err:
        raise EndpointCommandError(err.response["Error"]["Message"]) from None


# wiring
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "endpoints",
        description="Deploys approved model versions; lists, invokes and stops endpoints.",
    )
    parser.add_argument("--local", action="store_true", help=_cli.LOCAL_HELP)
    parser.add_argument("--region", default=None, help="AWS region (default: your configuration's)")
    parser.add_argument("--output", choices=("table", "json"), default="table")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="endpoints, their status and (locally) their URL")
    deploy = commands.add_parser(
        "deploy", help="deploy the latest approved version of a model package group to an endpoint"
    )
    deploy.add_argument("group")
    deploy.add_argument("endpoint")
    deploy.add_argument("--version", type=int, default=None, help="this version (must be Approved)")
    add_deploy_arguments(deploy)
    stopping = commands.add_parser("stop", help="delete endpoints (locally: end their servers)")
    stopping.add_argument("names", nargs="*")
    stopping.add_argument("--all", action="store_true", help="every endpoint")
    invoking = commands.add_parser("invoke", help="send one request to an endpoint")
    invoking.add_argument("name")
    invoking.add_argument(
        "--body",
        default=None,
        help="the request body (default: stdin); --body=... for one that starts with '-'",
    )
    invoking.add_argument("--file", type=Path, default=None, help="read the body from a file")
    invoking.add_argument("--content-type", default="text/csv")
    invoking.add_argument("--accept", default=None)
    for sub in commands.choices.values():  # options may follow the command too
        sub.add_argument(
            "--local", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
        sub.add_argument(
            "--output", choices=("table", "json"), default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
    return parser


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> str:
    import boto3

    session = boto3.Session(region_name=args.region)
    client = session.client("sagemaker")
    region = session.region_name
    if args.command == "list":
        rows = list_endpoints(client, args.local, region)
        return _json(rows) if args.output == "json" else render_endpoints(rows)
    if args.command == "deploy":
        check_port(args)
        deployment = deployer(args, client, parser).deploy(
            args.group, args.endpoint, args.version, args.port
        )
        url = local_url(args.endpoint, args.local, region)
        if args.output == "json":
            return _json({**deployment.as_dict(), "Url": url})
        return render_deployment(deployment, url)
    if args.command == "stop":
        if not args.names and not args.all:
            _cli.usage_error(parser, "name the endpoints to stop, or pass --all")
        names = stop(client, args.names, args.all)
        if args.output == "json":
            return _json(names)
        return "\n".join(f"endpoint {n} stopped" for n in names) or "no endpoints"
    if args.file is not None:
        body = args.file.read_bytes()
    elif args.body is not None:
        body = args.body.encode()
    else:
        body = sys.stdin.buffer.read()
    answer = invoke(
        session.client("sagemaker-runtime"), args.name, body, args.content_type, args.accept
    )
    return answer.decode("utf-8", "replace").rstrip("\n")


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ[LOCAL_NOTICE] = "0"  # this CLI prints the endpoint's URL itself
    _cli.select_target(args)
    if not args.local:
        _cli.require_credentials(parser)
    try:
        print(run(args, parser))
    except (DeployError, EndpointCommandError) as err:
        parser.exit(1, f"{parser.prog}: error: {err}\n")


if __name__ == "__main__":
    main()
