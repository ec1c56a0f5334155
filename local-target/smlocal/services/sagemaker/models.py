"""Models made by CreateModel (what transform jobs and endpoints run)."""

from __future__ import annotations

from smlocal.services.sagemaker.base import _operation


class ModelsAPI:
    # models
    @_operation("CreateModel")
    def create_model(self, **kwargs) -> dict:
        return {"ModelArn": self.backend.models.create(kwargs["ModelName"], kwargs)["ModelArn"]}

    @_operation("DescribeModel")
    def describe_model(self, **kwargs) -> dict:
        return self.backend.models.describe(kwargs["ModelName"])

    @_operation("ListModels")
    def list_models(self, **kwargs) -> dict:
        contains = kwargs.get("NameContains") or ""
        return {"Models": [m for m in self.backend.models.list() if contains in m["ModelName"]]}

    @_operation("DeleteModel")
    def delete_model(self, **kwargs) -> dict:
        self.backend.models.delete(kwargs["ModelName"])
        return {}
