"""The lineage of a model version: from its input data, through the jobs, to the endpoints serving it.

Read with the lineage API (``ListArtifacts``, ``QueryLineage``, ``Describe*``), the same on
SageMaker and on the local target: the model package's artifact, everything upstream of it
(data sets, code, images, processing and training jobs, the model artifact) and downstream
(its group, its approval, deployments and endpoints), in order, each with what it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

# Display order among entities of one rank.
ORDER = ("DataSet", "Code", "Image", "ProcessingJob", "TrainingJob", "TransformJob", "Model")


class LineageError(Exception):
    """No lineage to show; one line for the user."""


@dataclass
class Node:
    """One entity of the chain."""

    arn: str
    lineage_type: str  # Artifact, Action, Context, TrialComponent
    type: str  # DataSet, ProcessingJob, ModelPackage, Endpoint, ...
    what: str = ""  # a URI, a job's name, an endpoint's name
    detail: str = ""  # a content hash, a status, a URL
    parents: list[str] = field(default_factory=list)

    def as_dict(self, numbers: dict[str, int]) -> dict:
        return {
            "Step": numbers[self.arn],
            "Arn": self.arn,
            "LineageType": self.lineage_type,
            "Type": self.type,
            "Entity": self.what,
            "Detail": self.detail,
            "From": [numbers[p] for p in self.parents if p in numbers],
        }


def _short_hash(source: dict) -> str:
    for entry in source.get("SourceTypes") or []:
        value = entry.get("Value") or ""
        if value:
            kind, _, digest = value.rpartition(":")
            return f"{kind or entry.get('SourceIdType', '').lower()}:{digest[:12]}"
    return ""


def _describe(client, node: Node, endpoint_url: Callable[[str], Optional[str]]) -> None:
    """Fill in what the node is, from its Describe* answer."""
    if node.lineage_type == "Artifact":
        described = client.describe_artifact(ArtifactArn=node.arn)
        node.what = described["Source"]["SourceUri"]
        node.detail = _short_hash(described["Source"])
    elif node.lineage_type == "TrialComponent":
        described = client.describe_trial_component(TrialComponentName=node.arn.split("/", 1)[1])
        source = (described.get("Source") or {}).get("SourceArn", "")
        node.what = described.get("DisplayName") or source.rsplit("/", 1)[-1]
        node.detail = (described.get("Status") or {}).get("PrimaryStatus", "")
    elif node.lineage_type == "Action":
        described = client.describe_action(ActionName=node.arn.split("/", 1)[1])
        node.what = described.get("ActionName", "")
        properties = described.get("Properties") or {}
        node.detail = properties.get("EndpointConfigName", "")
        if node.type == "Approval":  # the package's status now, not when it was made
            package = (described.get("Source") or {}).get("SourceUri", "")
            node.detail = client.describe_model_package(ModelPackageName=package).get(
                "ModelApprovalStatus", ""
            )
    else:
        described = client.describe_context(ContextName=node.arn.split("/", 1)[1])
        source = (described.get("Source") or {}).get("SourceUri", "")
        node.what = source.rsplit("/", 1)[-1] if source else described.get("ContextName", "")
        if node.type == "Endpoint":
            node.detail = _endpoint_state(client, node.what, endpoint_url)


def _endpoint_state(client, name: str, endpoint_url: Callable[[str], Optional[str]]) -> str:
    try:
        status = client.describe_endpoint(EndpointName=name)["EndpointStatus"]
    except Exception:  # noqa: BLE001 - deleted since: say so
        return "deleted"
    url = endpoint_url(name) if status in ("InService", "Updating") else None
    return f"{status} {url}" if url else status


def chain(
    client,
    package_arn: str,
    endpoint_url: Callable[[str], Optional[str]] = lambda name: None,
) -> list[Node]:
    """The model package's lineage, upstream to downstream (each node after its parents)."""
    artifacts = client.list_artifacts(SourceUri=package_arn).get("ArtifactSummaries") or []
    if not artifacts:
        raise LineageError(f"no lineage is recorded for {package_arn}")
    start = artifacts[0]["ArtifactArn"]
    nodes: dict[str, Node] = {}
    parents: dict[str, set[str]] = {}
    for direction in ("Ascendants", "Descendants"):
        answer = client.query_lineage(
            StartArns=[start], Direction=direction, IncludeEdges=True, MaxDepth=20
        )
        for vertex in answer.get("Vertices", []):
            nodes.setdefault(
                vertex["Arn"], Node(vertex["Arn"], vertex["LineageType"], vertex.get("Type") or "")
            )
        for edge in answer.get("Edges", []):
            parents.setdefault(edge["DestinationArn"], set()).add(edge["SourceArn"])
    for node in nodes.values():
        node.parents = sorted(p for p in parents.get(node.arn, ()) if p in nodes)
        _describe(client, node, endpoint_url)
    return _ordered(nodes)


def _ordered(nodes: dict[str, Node]) -> list[Node]:
    """Parents first; among the ready ones, data before jobs before models, then by name."""
    placed: list[Node] = []
    done: set[str] = set()
    remaining = dict(nodes)

    def rank(node: Node):
        return (ORDER.index(node.type) if node.type in ORDER else len(ORDER), node.what)

    while remaining:
        ready = [n for n in remaining.values() if all(p in done for p in n.parents)]
        if not ready:  # a cycle (not made by SageMaker): place the rest as they are
            ready = list(remaining.values())
        for node in sorted(ready, key=rank):
            placed.append(node)
            done.add(node.arn)
            del remaining[node.arn]
    return placed


def numbers(nodes: list[Node]) -> dict[str, int]:
    return {node.arn: index for index, node in enumerate(nodes, start=1)}


def render(nodes: list[Node], title: str) -> str:
    numbered = numbers(nodes)
    rows = [
        [
            str(numbered[n.arn]),
            n.type,
            n.what,
            n.detail,
            ", ".join(str(i) for i in sorted(numbered[p] for p in n.parents)),
        ]
        for n in nodes
    ]
    headers = ["step", "type", "entity", "detail", "from"]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)
