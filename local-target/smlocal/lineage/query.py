"""QueryLineage: the entities reachable from some, upstream, downstream or both, with filters.

Start ARNs may be lineage entities or the resources they stand for (a model package, an
endpoint, a job): those start from every entity whose source is that resource.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timezone
from typing import Any, Iterable, Optional

from smlocal.lineage.store import Entity, LineageNotFound, LineageStore

DIRECTIONS = ("Ascendants", "Descendants", "Both")


def _aware(value: Any) -> Optional[datetime]:
    if value is None:
        return None
    if not isinstance(value, datetime):
        from botocore.utils import parse_timestamp

        value = parse_timestamp(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def starts(store: LineageStore, arns: Iterable[str]) -> list[Entity]:
    found: list[Entity] = []
    for arn in arns:
        try:
            found.append(store.get(arn))
        except LineageNotFound:
            found += store.entities(source_uri=arn)
    return found


def passes(entity: Entity, filters: dict) -> bool:
    """Whether an entity passes QueryLineage's Filters (types, times, properties)."""
    if filters.get("Types") and not any(entity.matches_type(t) for t in filters["Types"]):
        return False
    if filters.get("LineageTypes") and entity.kind not in filters["LineageTypes"]:
        return False
    bounds = (
        ("CreatedBefore", lambda t: entity.created < t),
        ("CreatedAfter", lambda t: entity.created > t),
        ("ModifiedBefore", lambda t: entity.modified < t),
        ("ModifiedAfter", lambda t: entity.modified > t),
    )
    for key, holds in bounds:
        when = _aware(filters.get(key))
        if when is not None and not holds(when):
            return False
    properties = entity.record.get("Properties") or {}
    return all(properties.get(k) == v for k, v in (filters.get("Properties") or {}).items())


def _walk(store: LineageStore, origin: list[Entity], upstream: bool, depth: int):
    """Breadth-first along associations; (entities by ARN, edges) within ``depth`` steps."""
    seen = {e.arn: e for e in origin}
    edges: dict[tuple[str, str], dict] = {}
    queue = deque((e.arn, 0) for e in origin)
    while queue:
        arn, level = queue.popleft()
        if level >= depth:
            continue
        links = store.associations(destination=arn) if upstream else store.associations(source=arn)
        for link in links:
            edges[(link["SourceArn"], link["DestinationArn"])] = link
            following = link["SourceArn"] if upstream else link["DestinationArn"]
            if following in seen:
                continue
            try:
                seen[following] = store.get(following)
            except LineageNotFound:  # an association to an entity since deleted
                continue
            queue.append((following, level + 1))
    return seen, edges


def query_lineage(
    store: LineageStore,
    start_arns: list[str],
    direction: str = "Both",
    include_edges: bool = True,
    filters: Optional[dict] = None,
    max_depth: int = 10,
) -> dict:
    """The answer to QueryLineage: ``Vertices`` (and ``Edges`` among them)."""
    origin = starts(store, start_arns)
    found: dict[str, Entity] = {e.arn: e for e in origin}
    edges: dict[tuple[str, str], dict] = {}
    for upstream in (True, False):
        if direction == ("Descendants" if upstream else "Ascendants"):
            continue
        seen, walked = _walk(store, origin, upstream, max_depth)
        found.update(seen)
        edges.update(walked)
    vertices = [e for e in found.values() if passes(e, filters or {})]
    kept = {e.arn for e in vertices}
    answer: dict[str, Any] = {"Vertices": [e.vertex() for e in vertices], "Edges": []}
    if include_edges:
        answer["Edges"] = [
            {
                "SourceArn": link["SourceArn"],
                "DestinationArn": link["DestinationArn"],
                "AssociationType": link["AssociationType"],
            }
            for (source, destination), link in edges.items()
            if source in kept and destination in kept
        ]
    return answer
