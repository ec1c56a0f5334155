"""Lineage: artifacts, actions, contexts, trial components, associations and QueryLineage."""

from __future__ import annotations

import secrets
from typing import Any, Callable

from smlocal.lineage.query import DIRECTIONS, query_lineage
from smlocal.lineage.store import (
    ACTION,
    ARTIFACT,
    CONTEXT,
    TRIAL_COMPONENT,
    Entity,
    LineageNotFound,
    LineageStore,
    artifact_key,
)
from smlocal.services.base import ServiceError
from smlocal.services.sagemaker.jobs import _EPOCH, _END, _when


def _lineage_operation(func: Callable) -> Callable:
    """Lineage's error codes: ResourceNotFound for an unknown entity, ValidationException else."""

    def method(self, **kwargs):
        try:
            return func(self, **kwargs)
        except LineageNotFound as err:
            raise ServiceError("ResourceNotFound", str(err)) from None
        except ValueError as err:
            raise ServiceError("ValidationException", str(err)) from None

    method.__name__ = func.__name__
    method.__doc__ = func.__doc__
    return method


def _summary(entity: Entity, keys: tuple[str, ...]) -> dict:
    return _summary_of(entity.describe(), keys)


ARTIFACT_SUMMARY = (
    "ArtifactArn",
    "ArtifactName",
    "Source",
    "ArtifactType",
    "CreationTime",
    "LastModifiedTime",
)
ACTION_SUMMARY = (
    "ActionArn",
    "ActionName",
    "Source",
    "ActionType",
    "Status",
    "CreationTime",
    "LastModifiedTime",
)
CONTEXT_SUMMARY = (
    "ContextArn",
    "ContextName",
    "Source",
    "ContextType",
    "CreationTime",
    "LastModifiedTime",
)
TRIAL_COMPONENT_SUMMARY = (
    "TrialComponentName",
    "TrialComponentArn",
    "DisplayName",
    "TrialComponentSource",
    "Status",
    "StartTime",
    "EndTime",
    "CreationTime",
    "LastModifiedTime",
)


class LineageAPI:
    """The lineage API over the entities the local target records (and the caller's own)."""

    @property
    def _lineage(self) -> LineageStore:
        return LineageStore(self.backend.home / "state.sqlite", self.backend.region)

    def _list(self, kind: str, kwargs: dict, type_key: str, key: str, fields: tuple) -> dict:
        entities = [
            e
            for e in self._lineage.entities(kind, kwargs.get("SourceUri"))
            if kwargs.get(type_key, e.type) == e.type
            and _when(kwargs.get("CreatedAfter"), _EPOCH) < e.created
            and e.created < _when(kwargs.get("CreatedBefore"), _END)
        ]
        by_name = kwargs.get("SortBy") == "Name"
        entities.sort(
            key=lambda e: (e.name or "") if by_name else e.created,
            reverse=kwargs.get("SortOrder", "Descending") == "Descending",
        )
        return _paged([_summary(e, fields) for e in entities], kwargs, key)

    # artifacts
    @_lineage_operation
    def create_artifact(self, **kwargs) -> dict:
        uri = kwargs["Source"]["SourceUri"]
        record = {k: v for k, v in kwargs.items() if k != "Tags"}
        key = artifact_key(uri, secrets.token_hex(8))
        entity, _ = self._lineage.put(
            ARTIFACT, key, record, type=kwargs.get("ArtifactType"), source_uri=uri
        )
        return {"ArtifactArn": entity.arn}

    @_lineage_operation
    def describe_artifact(self, **kwargs) -> dict:
        return self._lineage.get(kwargs["ArtifactArn"]).describe()

    @_lineage_operation
    def list_artifacts(self, **kwargs) -> dict:
        return self._list(ARTIFACT, kwargs, "ArtifactType", "ArtifactSummaries", ARTIFACT_SUMMARY)

    @_lineage_operation
    def update_artifact(self, **kwargs) -> dict:
        return {"ArtifactArn": self._update(self._lineage.get(kwargs["ArtifactArn"]), kwargs)}

    @_lineage_operation
    def delete_artifact(self, **kwargs) -> dict:
        arn = kwargs.get("ArtifactArn")
        if not arn:
            uri = (kwargs.get("Source") or {}).get("SourceUri")
            found = self._lineage.entities(ARTIFACT, uri) if uri else []
            if not found:
                raise LineageNotFound(f"Artifact with source {uri} does not exist.")
            arn = found[0].arn
        self._lineage.delete(arn)
        return {"ArtifactArn": arn}

    # actions and contexts
    @_lineage_operation
    def create_action(self, **kwargs) -> dict:
        return {"ActionArn": self._create_named(ACTION, "ActionName", "ActionType", kwargs).arn}

    @_lineage_operation
    def describe_action(self, **kwargs) -> dict:
        return self._lineage.find(ACTION, kwargs["ActionName"]).describe()

    @_lineage_operation
    def list_actions(self, **kwargs) -> dict:
        return self._list(ACTION, kwargs, "ActionType", "ActionSummaries", ACTION_SUMMARY)

    @_lineage_operation
    def update_action(self, **kwargs) -> dict:
        entity = self._lineage.find(ACTION, kwargs["ActionName"])
        return {"ActionArn": self._update(entity, kwargs)}

    @_lineage_operation
    def delete_action(self, **kwargs) -> dict:
        entity = self._lineage.find(ACTION, kwargs["ActionName"])
        self._lineage.delete(entity.arn)
        return {"ActionArn": entity.arn}

    @_lineage_operation
    def create_context(self, **kwargs) -> dict:
        return {"ContextArn": self._create_named(CONTEXT, "ContextName", "ContextType", kwargs).arn}

    @_lineage_operation
    def describe_context(self, **kwargs) -> dict:
        return self._lineage.find(CONTEXT, kwargs["ContextName"]).describe()

    @_lineage_operation
    def list_contexts(self, **kwargs) -> dict:
        return self._list(CONTEXT, kwargs, "ContextType", "ContextSummaries", CONTEXT_SUMMARY)

    @_lineage_operation
    def update_context(self, **kwargs) -> dict:
        entity = self._lineage.find(CONTEXT, kwargs["ContextName"])
        return {"ContextArn": self._update(entity, kwargs)}

    @_lineage_operation
    def delete_context(self, **kwargs) -> dict:
        entity = self._lineage.find(CONTEXT, kwargs["ContextName"])
        self._lineage.delete(entity.arn)
        return {"ContextArn": entity.arn}

    def _create_named(self, kind: str, name_key: str, type_key: str, kwargs: dict) -> Entity:
        name = kwargs[name_key]
        record = {k: v for k, v in kwargs.items() if k != "Tags"}
        entity, made = self._lineage.put(
            kind,
            name,
            record,
            type=kwargs.get(type_key),
            source_uri=(kwargs.get("Source") or {}).get("SourceUri"),
        )
        if not made:
            raise ValueError(f"{kind} {name} already exists: {entity.arn}")
        return entity

    def _update(self, entity: Entity, kwargs: dict) -> str:
        properties = dict(entity.record.get("Properties") or {})
        properties.update(kwargs.get("Properties") or {})
        for key in kwargs.get("PropertiesToRemove") or []:
            properties.pop(key, None)
        changes: dict[str, Any] = {"Properties": properties}
        for key in ("ArtifactName", "Status", "Description"):
            if key in kwargs:
                changes[key] = kwargs[key]
        return self._lineage.update(entity.arn, **changes).arn

    # trial components (the jobs' own)
    @_lineage_operation
    def describe_trial_component(self, **kwargs) -> dict:
        return self._lineage.find(TRIAL_COMPONENT, kwargs["TrialComponentName"]).describe()

    @_lineage_operation
    def list_trial_components(self, **kwargs) -> dict:
        entities = self._lineage.entities(TRIAL_COMPONENT)
        source = kwargs.get("SourceArn")
        summaries = []
        for entity in entities:
            if source and entity.source_uri != source:
                continue
            described = entity.describe()
            described["TrialComponentSource"] = described.get("Source")
            summaries.append(_summary_of(described, TRIAL_COMPONENT_SUMMARY))
        summaries.reverse()
        return _paged(summaries, kwargs, "TrialComponentSummaries")

    # associations and queries
    @_lineage_operation
    def add_association(self, **kwargs) -> dict:
        for arn in (kwargs["SourceArn"], kwargs["DestinationArn"]):
            self._lineage.get(arn)
        self._lineage.associate(
            kwargs["SourceArn"], kwargs["DestinationArn"], kwargs.get("AssociationType")
        )
        return {"SourceArn": kwargs["SourceArn"], "DestinationArn": kwargs["DestinationArn"]}

    @_lineage_operation
    def delete_association(self, **kwargs) -> dict:
        if not self._lineage.dissociate(kwargs["SourceArn"], kwargs["DestinationArn"]):
            raise LineageNotFound(
                f"Association {kwargs['SourceArn']} -> {kwargs['DestinationArn']} does not exist."
            )
        return {"SourceArn": kwargs["SourceArn"], "DestinationArn": kwargs["DestinationArn"]}

    @_lineage_operation
    def list_associations(self, **kwargs) -> dict:
        store = self._lineage
        summaries = []
        cache: dict[str, Entity] = {}

        def entity(arn: str):
            if arn not in cache:
                try:
                    cache[arn] = store.get(arn)
                except LineageNotFound:
                    cache[arn] = None
            return cache[arn]

        for link in store.associations(kwargs.get("SourceArn"), kwargs.get("DestinationArn")):
            source, destination = entity(link["SourceArn"]), entity(link["DestinationArn"])
            if source is None or destination is None:
                continue
            if kwargs.get("SourceType") and not source.matches_type(kwargs["SourceType"]):
                continue
            if kwargs.get("DestinationType") and not destination.matches_type(
                kwargs["DestinationType"]
            ):
                continue
            if kwargs.get("AssociationType", link["AssociationType"]) != link["AssociationType"]:
                continue
            if not (
                _when(kwargs.get("CreatedAfter"), _EPOCH)
                < link["CreationTime"]
                < _when(kwargs.get("CreatedBefore"), _END)
            ):
                continue
            summary = {
                **link,
                "SourceType": source.association_type,
                "DestinationType": destination.association_type,
                "SourceName": source.name,
                "DestinationName": destination.name,
            }
            summaries.append({k: v for k, v in summary.items() if v is not None})
        sort = kwargs.get("SortBy") or "CreationTime"
        summaries.sort(
            key=lambda s: s.get(sort) or "", reverse=kwargs.get("SortOrder") == "Descending"
        )
        return _paged(summaries, kwargs, "AssociationSummaries")

    @_lineage_operation
    def query_lineage(self, **kwargs) -> dict:
        direction = kwargs.get("Direction") or "Both"
        if direction not in DIRECTIONS:
            raise ValueError(f"Direction {direction!r} is not one of {', '.join(DIRECTIONS)}")
        return query_lineage(
            self._lineage,
            kwargs.get("StartArns") or [],
            direction,
            kwargs.get("IncludeEdges", True),
            kwargs.get("Filters") or {},
            int(kwargs.get("MaxDepth") or 10),
        )


def _summary_of(described: dict, keys: tuple[str, ...]) -> dict:
    return {k: described[k] for k in keys if k in described}


def _paged(items: list, kwargs: dict, key: str) -> dict:
    start = int(kwargs.get("NextToken") or 0)
    end = start + int(kwargs.get("MaxResults") or 50)
    response: dict[str, Any] = {key: items[start:end]}
    if end < len(items):
        response["NextToken"] = str(end)
    return response
