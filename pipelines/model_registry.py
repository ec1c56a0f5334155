"""A CLI over the model registry: list, describe, compare, approve (and deploy), reject, lineage.

The same code serves SageMaker (through boto3) and the local target (``--local``): both are
a SageMaker client with the same API. Metrics come from each version's model-quality
statistics, the evaluation report in S3 (or the local object store).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Optional

from pipelines import _cli, endpoints, lineage
from pipelines.deploy import DeployError

# Metrics where a smaller value is better; all others are taken as "larger is better".
LOWER_IS_BETTER = ("mse", "rmse", "mae", "mape", "loss", "error", "log_loss", "logloss")


class RegistryCommandError(Exception):
    """A request the registry cannot satisfy (unknown group or version, invalid transition)."""


@dataclass
class Version:
    group: str
    version: int
    arn: str
    status: str
    created: Optional[datetime]
    execution: Optional[str]
    metrics_uri: Optional[str]
    metrics: dict[str, float] = field(default_factory=dict)
    metrics_error: Optional[str] = None
    description: Optional[str] = None

    def as_dict(self) -> dict:
        return {
            "ModelPackageGroupName": self.group,
            "ModelPackageVersion": self.version,
            "ModelPackageArn": self.arn,
            "ModelApprovalStatus": self.status,
            "CreationTime": self.created.isoformat() if self.created else None,
            "CreatedByExecution": self.execution,
            "MetricsUri": self.metrics_uri,
            "Metrics": self.metrics,
            **({"MetricsError": self.metrics_error} if self.metrics_error else {}),
            **({"ApprovalDescription": self.description} if self.description else {}),
        }


def flatten_metrics(report: Any) -> dict[str, float]:
    """``{"regression_metrics": {"mse": {"value": 4.9}}}`` -> ``{"mse": 4.9}``."""
    flat: dict[str, float] = {}
    if not isinstance(report, dict):
        return flat
    for family in report.values():
        if not isinstance(family, dict):
            continue
        for name, entry in family.items():
            value = entry.get("value") if isinstance(entry, dict) else entry
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                flat[name] = float(value)
    return flat


def lower_is_better(metric: str) -> bool:
    name = metric.lower()
    return any(
        name == key or name.endswith("_" + key) or name.endswith(":" + key)
        for key in LOWER_IS_BETTER
    )


class Registry:
    """Model versions from a SageMaker client, with metrics read by ``read_object(uri)``."""

    def __init__(self, client, read_object: Callable[[str], bytes]):
        self.client = client
        self.read_object = read_object

    def _client_call(self, method: str, **kwargs) -> dict:
        from botocore.exceptions import ClientError

        try:
            return getattr(self.client, method)(**kwargs)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            message = err.response.get("Error", {}).get("Message", str(err))
            if code in ("ValidationException", "ResourceNotFound") and (
                "does not exist" in message or "not found" in message.lower()
            ):
                raise RegistryCommandError(message) from None
            raise

    def groups(self) -> list[dict]:
        paginator_items = []
        kwargs: dict = {}
        while True:
            page = self._client_call("list_model_package_groups", **kwargs)
            paginator_items += page.get("ModelPackageGroupSummaryList", [])
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        rows = []
        for group in paginator_items:
            name = group["ModelPackageGroupName"]
            versions = self._summaries(name)
            approved = [v for v in versions if v["ModelApprovalStatus"] == "Approved"]
            rows.append(
                {
                    "ModelPackageGroupName": name,
                    "Versions": len(versions),
                    "LatestVersion": max(
                        (v.get("ModelPackageVersion", 0) for v in versions), default=None
                    ),
                    "LatestApprovedVersion": max(
                        (v.get("ModelPackageVersion", 0) for v in approved), default=None
                    ),
                    "CreationTime": group.get("CreationTime"),
                }
            )
        return rows

    def _summaries(self, group: str) -> list[dict]:
        items, kwargs = [], {"ModelPackageGroupName": group}
        while True:
            page = self._client_call("list_model_packages", **kwargs)
            items += page.get("ModelPackageSummaryList", [])
            if not page.get("NextToken"):
                return items
            kwargs["NextToken"] = page["NextToken"]

    def check_group(self, group: str) -> None:
        self._client_call("describe_model_package_group", ModelPackageGroupName=group)

    def versions(self, group: str, numbers: Optional[list[int]] = None) -> list[Version]:
        """The group's versions, newest first (only ``numbers`` if given), with metrics."""
        self.check_group(group)
        summaries = sorted(
            self._summaries(group), key=lambda s: s.get("ModelPackageVersion", 0), reverse=True
        )
        if numbers:
            known = {s.get("ModelPackageVersion") for s in summaries}
            missing = [n for n in numbers if n not in known]
            if missing:
                raise RegistryCommandError(
                    f"model package group {group!r} has no version {missing[0]}"
                )
            summaries = [s for s in summaries if s.get("ModelPackageVersion") in numbers]
        return [self._version(s["ModelPackageArn"]) for s in summaries]

    def version(self, group: str, number: int) -> Version:
        return self.versions(group, [number])[0]

    def latest_approved(self, group: str) -> Optional[Version]:
        """The group's newest Approved version, whichever versions are being looked at."""
        approved = [s for s in self._summaries(group) if s.get("ModelApprovalStatus") == "Approved"]
        if not approved:
            return None
        newest = max(approved, key=lambda s: s.get("ModelPackageVersion", 0))
        return self._version(newest["ModelPackageArn"])

    def _version(self, arn: str) -> Version:
        package = self._client_call("describe_model_package", ModelPackageName=arn)
        statistics = ((package.get("ModelMetrics") or {}).get("ModelQuality") or {}).get(
            "Statistics"
        ) or {}
        version = Version(
            group=package.get("ModelPackageGroupName", ""),
            version=int(package.get("ModelPackageVersion", 0)),
            arn=package["ModelPackageArn"],
            status=package.get("ModelApprovalStatus", ""),
            created=package.get("CreationTime"),
            execution=(package.get("MetadataProperties") or {}).get("GeneratedBy"),
            metrics_uri=statistics.get("S3Uri"),
            description=package.get("ApprovalDescription"),
        )
        if version.metrics_uri:
            try:
                version.metrics = flatten_metrics(json.loads(self.read_object(version.metrics_uri)))
            except Exception as err:  # a missing or unreadable report is shown, not fatal
                version.metrics_error = f"{type(err).__name__}: {err}"
        return version

    def set_status(
        self, group: str, number: int, status: str, description: Optional[str]
    ) -> Version:
        version = self.version(group, number)
        if version.status == status:
            raise RegistryCommandError(f"version {number} of {group!r} is already {status}")
        kwargs = {"ModelPackageArn": version.arn, "ModelApprovalStatus": status}
        if description:
            kwargs["ApprovalDescription"] = description
        self._client_call("update_model_package", **kwargs)
        return self.version(group, number)


def _comparable(value: Any) -> bool:
    """A metric that can be ranked: a number, not NaN (NaN is never the best)."""
    return isinstance(value, (int, float)) and not math.isnan(value)


def compare(versions: list[Version], approved: Optional[Version] = None) -> dict:
    """Metrics side by side, the difference to the latest approved version, the best marked.

    ``approved`` is the group's latest approved version when only some versions are compared
    (it may not be among them); by default, the newest approved one of ``versions``.
    """
    names = sorted({m for v in versions for m in v.metrics})
    if approved is None:
        approved = next((v for v in versions if v.status == "Approved"), None)
    best = {}
    for name in names:
        scored = [v for v in versions if _comparable(v.metrics.get(name))]
        pick = min if lower_is_better(name) else max
        best[name] = pick(scored, key=lambda v: v.metrics[name]).version if scored else None
    rows = []
    for v in versions:
        row = {"ModelPackageVersion": v.version, "ModelApprovalStatus": v.status, "Metrics": {}}
        for name in names:
            value = v.metrics.get(name)
            delta = None
            if value is not None and approved is not None and name in approved.metrics:
                delta = value - approved.metrics[name]
            row["Metrics"][name] = {
                "value": value,
                "vs_latest_approved": delta,
                "best": best[name] == v.version,
            }
        rows.append(row)
    return {
        "ModelPackageGroupName": versions[0].group if versions else None,
        "LatestApprovedVersion": approved.version if approved else None,
        "Best": best,
        "Versions": rows,
    }


# presentation
def _table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else (value or "")


def _short_execution(arn: Optional[str]) -> str:
    return arn.rsplit("/", 1)[-1] if arn else ""


def _number(value: Optional[float]) -> str:
    return "" if value is None else f"{value:.4f}"


def render_groups(rows: list[dict]) -> str:
    return _table(
        ["group", "versions", "latest", "latest approved", "created"],
        [
            [
                r["ModelPackageGroupName"],
                r["Versions"],
                r["LatestVersion"],
                r["LatestApprovedVersion"],
                _when(r["CreationTime"]),
            ]
            for r in rows
        ],
    )


def render_versions(versions: list[Version]) -> str:
    names = sorted({m for v in versions for m in v.metrics})
    return _table(
        ["version", "status", *names, "created", "execution"],
        [
            [
                v.version,
                v.status,
                *[_number(v.metrics.get(n)) for n in names],
                _when(v.created),
                _short_execution(v.execution),
            ]
            for v in versions
        ],
    )


def render_comparison(result: dict) -> str:
    names = sorted(result["Best"])
    headers = ["version", "status"]
    for name in names:
        arrow = "lower is better" if lower_is_better(name) else "higher is better"
        headers += [f"{name} ({arrow})", "vs approved"]
    rows = []
    for row in result["Versions"]:
        cells = [row["ModelPackageVersion"], row["ModelApprovalStatus"]]
        for name in names:
            metric = row["Metrics"][name]
            mark = " *" if metric["best"] else ""
            delta = metric["vs_latest_approved"]
            cells += [_number(metric["value"]) + mark, "" if delta is None else f"{delta:+.4f}"]
        rows.append(cells)
    approved = result["LatestApprovedVersion"]
    footer = "* best; 'vs approved' is the difference to the latest approved version"
    footer += f" ({approved})" if approved else " (none is approved)"
    return _table(headers, rows) + "\n" + footer


def _json(value) -> str:
    return json.dumps(
        value, indent=2, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)
    )


# wiring
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "model-registry", description="Lists, compares and approves model versions."
    )
    parser.add_argument("--local", action="store_true", help=_cli.LOCAL_HELP)
    parser.add_argument(
        "--region", default=None, help="AWS region (default: your AWS configuration's)."
    )
    parser.add_argument(
        "--output",
        choices=("table", "json"),
        default="table",
        help="table for people, json for scripts",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="model package groups, or one group's versions")
    listing.add_argument("group", nargs="?")
    describe = commands.add_parser("describe", help="one version in full")
    describe.add_argument("group")
    describe.add_argument("version", type=int)
    comparing = commands.add_parser("compare", help="metrics of versions side by side")
    comparing.add_argument("group")
    comparing.add_argument("versions", nargs="*", type=int)
    for name in ("approve", "reject"):
        sub = commands.add_parser(name, help=f"{name} a version")
        sub.add_argument("group")
        sub.add_argument("version", type=int)
        sub.add_argument("--description", default=None)
    approve = commands.choices["approve"]
    approve.add_argument(
        "--deploy",
        metavar="ENDPOINT",
        default=None,
        help="then deploy the version to this endpoint (created, or updated in place)",
    )
    endpoints.add_deploy_arguments(approve)
    lineage_command = commands.add_parser(
        "lineage", help="a version's chain: input data, jobs, model, endpoints"
    )
    lineage_command.add_argument("group")
    lineage_command.add_argument("version", type=int)
    for sub in commands.choices.values():  # options may follow the command too
        sub.add_argument(
            "--local", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
        sub.add_argument(
            "--output", choices=("table", "json"), default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
    return parser


def open_registry(local: bool, region: Optional[str]) -> Registry:
    """The registry through the SageMaker API; with ``local``, the local target answers it."""
    if local:
        import smlocal

        smlocal.enable()
    import boto3

    session = boto3.Session(region_name=region)
    s3 = session.client("s3")

    def read(uri: str) -> bytes:
        bucket, _, key = uri[len("s3://") :].partition("/")
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    return Registry(session.client("sagemaker"), read)


def run(args: argparse.Namespace, registry: Registry) -> str:
    if args.command == "list":
        if args.group is None:
            rows = registry.groups()
            return _json(rows) if args.output == "json" else render_groups(rows)
        versions = registry.versions(args.group)
        return (
            _json([v.as_dict() for v in versions])
            if args.output == "json"
            else render_versions(versions)
        )
    if args.command == "describe":
        version = registry.version(args.group, args.version)
        if args.output == "json":
            return _json(version.as_dict())
        return "\n".join(f"{k}: {v}" for k, v in version.as_dict().items() if v not in (None, {}))
    if args.command == "compare":
        versions = registry.versions(args.group, args.versions or None)
        if not versions:
            raise RegistryCommandError(f"model package group {args.group!r} has no versions")
        approved = registry.latest_approved(args.group) if args.versions else None
        result = compare(versions, approved)
        return _json(result) if args.output == "json" else render_comparison(result)
    if args.command == "lineage":
        return show_lineage(args, registry)
    status = "Approved" if args.command == "approve" else "Rejected"
    deploying = getattr(args, "deploy", None)
    if deploying:  # refuse before approving what could not be deployed
        endpoints.check_port(args)
        args.deployer.current(deploying, args.group)
    version = registry.set_status(args.group, args.version, status, args.description)
    deployment = None
    if deploying:
        try:
            deployment = args.deployer.deploy(args.group, deploying, version=args.version)
        except DeployError as err:
            raise DeployError(
                f"version {args.version} of {args.group} is now Approved, but deploying it to "
                f"{deploying} failed: {err}"
            ) from None
    if args.output == "json":
        answer = version.as_dict()
        if deployment is not None:
            answer["Deployment"] = deployment.as_dict()
        return _json(answer)
    message = f"version {version.version} of {version.group} is now {version.status}"
    if deployment is not None:
        url = endpoints.local_url(deployment.endpoint, args.local, args.region)
        message += "\n" + endpoints.render_deployment(deployment, url)
    return message


def show_lineage(args: argparse.Namespace, registry: Registry) -> str:
    """``lineage GROUP VERSION``: the version's chain, upstream to downstream."""
    version = registry.version(args.group, args.version)
    try:
        nodes = lineage.chain(
            registry.client,
            version.arn,
            lambda name: endpoints.local_url(name, args.local, args.region),
        )
    except lineage.LineageError as err:
        raise RegistryCommandError(str(err)) from None
    if args.output == "json":
        numbered = lineage.numbers(nodes)
        return _json([n.as_dict(numbered) for n in nodes])
    return lineage.render(
        nodes, f"lineage of version {version.version} of {version.group} ({version.status})"
    )


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    _cli.select_target(args)
    if not args.local:
        import boto3

        if boto3.Session().get_credentials() is None:
            _cli.usage_error(
                parser,
                "no AWS credentials found; configure them, or pass --local for the local registry",
            )
    from smlocal.errors import StateError

    try:
        registry = open_registry(args.local, args.region)
        if getattr(args, "deploy", None):
            os.environ[endpoints.LOCAL_NOTICE] = "0"  # the URL is printed below
            args.deployer = endpoints.deployer(args, registry.client, parser)
        print(run(args, registry))
    except (RegistryCommandError, DeployError, StateError) as err:
        parser.exit(1, f"{parser.prog}: error: {err}\n")


if __name__ == "__main__":
    main()
