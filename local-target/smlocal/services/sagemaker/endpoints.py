"""Real-time endpoints and their configurations, served by model servers on 127.0.0.1."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from smlocal import endpoints, polling
from smlocal.endpoints.records import EndpointConfigRecord, EndpointRecord
from smlocal.jobs.base import refuse_present
from smlocal.services.sagemaker.base import _operation
from smlocal.services.sagemaker.jobs import _when, _EPOCH, _END


def _page(items: list, kwargs: dict, key: str, default_max: int = 10) -> dict:
    start = int(kwargs.get("NextToken") or 0)
    end = start + int(kwargs.get("MaxResults") or default_max)
    response: dict[str, Any] = {key: items[start:end]}
    if end < len(items):
        response["NextToken"] = str(end)
    return response


def _config_description(record: EndpointConfigRecord) -> dict:
    return {
        "EndpointConfigName": record.name,
        "EndpointConfigArn": record.arn,
        "CreationTime": record.created,
        **record.request,
    }


def _endpoint_description(record: EndpointRecord, manager) -> dict:
    described: dict[str, Any] = {
        "EndpointName": record.name,
        "EndpointArn": record.arn,
        "EndpointConfigName": record.config_name,
        "EndpointStatus": record.status,
        "CreationTime": record.created,
        "LastModifiedTime": record.modified,
    }
    if record.variants:
        described["ProductionVariants"] = [
            {
                **variant,
                "DeployedImages": [
                    {**image, "ResolutionTime": datetime.fromisoformat(image["ResolutionTime"])}
                    for image in variant.get("DeployedImages", [])
                ],
            }
            for variant in record.variants
        ]
    if record.failure_reason:
        described["FailureReason"] = record.failure_reason
    if record.pending_config:
        pending = manager.records.config(record.region, record.pending_config)
        described["PendingDeploymentSummary"] = {
            "EndpointConfigName": record.pending_config,
            "StartTime": record.pending_since,
            "ProductionVariants": [
                {"VariantName": v.get("VariantName", "AllTraffic")}
                for v in (pending.request.get("ProductionVariants") if pending else [])
            ],
        }
    return described


class EndpointsAPI:
    """Create/Describe/List/Update/Delete of endpoints and endpoint configurations."""

    @property
    def _endpoints(self):
        return endpoints.manager_for(self.backend.home, self.backend.region)

    # endpoint configurations
    @_operation("CreateEndpointConfig")
    def create_endpoint_config(self, **kwargs) -> dict:
        return {"EndpointConfigArn": self._endpoints.create_config(kwargs).arn}

    @_operation("DescribeEndpointConfig")
    def describe_endpoint_config(self, **kwargs) -> dict:
        return _config_description(self._endpoints.config(kwargs["EndpointConfigName"]))

    @_operation("ListEndpointConfigs")
    def list_endpoint_configs(self, **kwargs) -> dict:
        contains = (kwargs.get("NameContains") or "").lower()
        records = [
            r
            for r in self._endpoints.configs()
            if contains in r.name.lower()
            and _when(kwargs.get("CreationTimeAfter"), _EPOCH) < r.created
            and r.created < _when(kwargs.get("CreationTimeBefore"), _END)
        ]
        by_name = kwargs.get("SortBy") == "Name"
        records.sort(
            key=lambda r: r.name if by_name else r.created,
            reverse=kwargs.get("SortOrder", "Descending") == "Descending",
        )
        summaries = [
            {"EndpointConfigName": r.name, "EndpointConfigArn": r.arn, "CreationTime": r.created}
            for r in records
        ]
        return _page(summaries, kwargs, "EndpointConfigs")

    @_operation("DeleteEndpointConfig")
    def delete_endpoint_config(self, **kwargs) -> dict:
        self._endpoints.delete_config(kwargs["EndpointConfigName"])
        return {}

    # endpoints
    def _awaited(self, name: str) -> None:
        """The caller will wait for this endpoint: its poll loop's first sleep watches it.

        The SDK sleeps before it first describes an endpoint it made (30 s); this primes the
        poll loops' wake-up (``polling``) with the endpoint, as a DescribeEndpoint would.
        """
        described = self.describe_endpoint(EndpointName=name)
        polling.remember(
            "sagemaker", "DescribeEndpoint", {"EndpointName": name}, self.backend.region, described
        )

    @_operation("CreateEndpoint")
    def create_endpoint(self, **kwargs) -> dict:
        refuse_present(kwargs, ("DeploymentConfig",), "updates switch all at once")
        record = self._endpoints.create(
            kwargs["EndpointName"], kwargs["EndpointConfigName"], kwargs.get("Tags")
        )
        self._awaited(record.name)
        return {"EndpointArn": record.arn}

    @_operation("DescribeEndpoint")
    def describe_endpoint(self, **kwargs) -> dict:
        manager = self._endpoints
        return _endpoint_description(manager.get(kwargs["EndpointName"]), manager)

    @_operation("ListEndpoints")
    def list_endpoints(self, **kwargs) -> dict:
        contains = (kwargs.get("NameContains") or "").lower()
        records = [
            r
            for r in self._endpoints.list()
            if contains in r.name.lower()
            and kwargs.get("StatusEquals", r.status) == r.status
            and _when(kwargs.get("CreationTimeAfter"), _EPOCH) < r.created
            and r.created < _when(kwargs.get("CreationTimeBefore"), _END)
            and _when(kwargs.get("LastModifiedTimeAfter"), _EPOCH) < r.modified
            and r.modified < _when(kwargs.get("LastModifiedTimeBefore"), _END)
        ]
        key = {"Name": lambda r: r.name, "Status": lambda r: r.status}.get(
            kwargs.get("SortBy"), lambda r: r.created
        )
        records.sort(key=key, reverse=kwargs.get("SortOrder", "Descending") == "Descending")
        summaries = [
            {
                "EndpointName": r.name,
                "EndpointArn": r.arn,
                "CreationTime": r.created,
                "LastModifiedTime": r.modified,
                "EndpointStatus": r.status,
            }
            for r in records
        ]
        return _page(summaries, kwargs, "Endpoints")

    @_operation("UpdateEndpoint")
    def update_endpoint(self, **kwargs) -> dict:
        refuse_present(kwargs, ("DeploymentConfig",), "updates switch all at once")
        record = self._endpoints.update(kwargs["EndpointName"], kwargs["EndpointConfigName"])
        self._awaited(record.name)
        return {"EndpointArn": record.arn}

    @_operation("DeleteEndpoint")
    def delete_endpoint(self, **kwargs) -> dict:
        self._endpoints.delete(kwargs["EndpointName"])
        return {}
