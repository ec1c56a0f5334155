"""The SageMaker API, served locally: boto3's method names, request checks and response shapes.

The response layer over ``backend`` (as moto splits the wire from the state): requests are
validated against botocore's own model of the SageMaker API, errors are botocore
``ClientError``s with SageMaker's codes, so code written against boto3 runs unchanged.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Optional

import botocore.session
from botocore.exceptions import ClientError, ParamValidationError
from botocore.validate import ParamValidator

from pipelines.local import config
from pipelines.local.backend import Conflict, NotFound, get_backend
from pipelines.local.errors import LocalTargetError
from pipelines.local.executions import StepRecord
from pipelines.local.registry import RegistryError
from pipelines.local.store import StoreError


def _client_error(operation: str, code: str, message: str, status: int = 400) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


def _operation(name: str) -> Callable:
    """Validate the request as botocore would, then map backend errors to ClientErrors."""

    def decorate(func: Callable) -> Callable:
        def method(self, **kwargs):
            self._validate(name, kwargs)
            try:
                response = func(self, **kwargs)
            except NotFound as err:
                raise _client_error(name, "ResourceNotFound", str(err)) from None
            except RegistryError as err:
                raise _client_error(name, err.code, str(err)) from None
            except (Conflict, LocalTargetError, StoreError) as err:
                raise _client_error(name, "ValidationException", str(err)) from None
            response.setdefault("ResponseMetadata", {"HTTPStatusCode": 200, "RetryAttempts": 0})
            return response

        method.__name__ = func.__name__
        method.__doc__ = func.__doc__
        return method

    return decorate


class LocalSageMakerClient:
    """The subset of boto3's SageMaker client that pipelines and the model registry use."""

    def __init__(self, region: str = config.DEFAULT_REGION, home: Optional[Path] = None):
        self.backend = get_backend(Path(home) if home else config.home(), region)
        # A real (never used) botocore client lends its service model, which the SDK's
        # waiters and our request validation read.
        self._botocore = botocore.session.Session().create_client(
            "sagemaker",
            region_name=region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        self.meta = self._botocore.meta
        self._validator = ParamValidator()

    def _validate(self, operation: str, params: dict) -> None:
        shape = self.meta.service_model.operation_model(operation).input_shape
        for member, member_shape in shape.members.items():
            # botocore fills idempotency tokens in before validating; so do we.
            if member_shape.metadata.get("idempotencyToken") and member not in params:
                params[member] = str(uuid.uuid4())
        report = self._validator.validate(params, shape)
        if report.has_errors():
            raise ParamValidationError(report=report.generate_report())

    # pipelines
    def _definition(self, kwargs: dict) -> str:
        if kwargs.get("PipelineDefinition"):
            return kwargs["PipelineDefinition"]
        location = kwargs.get("PipelineDefinitionS3Location")
        if location:
            uri = f"s3://{location['Bucket']}/{location['ObjectKey']}"
            return self.backend.store.get_bytes(uri).decode("utf-8")
        raise LocalTargetError("PipelineDefinition or PipelineDefinitionS3Location is required")

    @_operation("CreatePipeline")
    def create_pipeline(self, **kwargs) -> dict:
        arn = self.backend.put_pipeline(
            kwargs["PipelineName"],
            self._definition(kwargs),
            kwargs["RoleArn"],
            create=True,
            display_name=kwargs.get("PipelineDisplayName"),
            description=kwargs.get("PipelineDescription"),
            parallelism=kwargs.get("ParallelismConfiguration"),
            tags=kwargs.get("Tags"),
        )
        return {"PipelineArn": arn}

    @_operation("UpdatePipeline")
    def update_pipeline(self, **kwargs) -> dict:
        arn = self.backend.put_pipeline(
            kwargs["PipelineName"],
            self._definition(kwargs),
            kwargs.get("RoleArn"),
            create=False,
            display_name=kwargs.get("PipelineDisplayName"),
            description=kwargs.get("PipelineDescription"),
            parallelism=kwargs.get("ParallelismConfiguration"),
        )
        return {"PipelineArn": arn}

    @_operation("DescribePipeline")
    def describe_pipeline(self, **kwargs) -> dict:
        p = self.backend.pipeline(kwargs["PipelineName"])
        response = {
            "PipelineArn": p["arn"],
            "PipelineName": p["name"],
            "PipelineDisplayName": p["display_name"],
            "PipelineDefinition": p["definition"],
            "PipelineDescription": p["description"] or "",
            "RoleArn": p["role_arn"],
            "PipelineStatus": "Active",
            "CreationTime": _dt(p["created"]),
            "LastModifiedTime": _dt(p["modified"]),
            "PipelineVersionId": p["version"],
        }
        if p["parallelism"]:
            response["ParallelismConfiguration"] = json.loads(p["parallelism"])
        return response

    @_operation("ListPipelines")
    def list_pipelines(self, **kwargs) -> dict:
        prefix = kwargs.get("PipelineNamePrefix") or ""
        return {
            "PipelineSummaries": [
                {
                    "PipelineArn": p["arn"],
                    "PipelineName": p["name"],
                    "PipelineDisplayName": p["display_name"],
                    "RoleArn": p["role_arn"],
                    "CreationTime": _dt(p["created"]),
                    "LastModifiedTime": _dt(p["modified"]),
                }
                for p in self.backend.history.pipelines()
                if p["name"].startswith(prefix)
            ]
        }

    @_operation("DeletePipeline")
    def delete_pipeline(self, **kwargs) -> dict:
        p = self.backend.pipeline(kwargs["PipelineName"])
        self.backend.history.delete_pipeline(p["name"])
        return {"PipelineArn": p["arn"]}

    @_operation("AddTags")
    def add_tags(self, **kwargs) -> dict:
        p = self.backend.pipeline(kwargs["ResourceArn"])
        merged = {t["Key"]: t for t in json.loads(p["tags"])}
        merged.update({t["Key"]: t for t in kwargs["Tags"]})
        self.backend.history.set_tags(p["arn"], list(merged.values()))
        return {"Tags": kwargs["Tags"]}

    @_operation("ListTags")
    def list_tags(self, **kwargs) -> dict:
        return {"Tags": json.loads(self.backend.pipeline(kwargs["ResourceArn"])["tags"])}

    @_operation("DescribeProject")
    def describe_project(self, **kwargs) -> dict:
        raise NotFound(
            f"Project {kwargs['ProjectName']} does not exist (the local target has no projects)"
        )

    # executions
    @_operation("StartPipelineExecution")
    def start_pipeline_execution(self, **kwargs) -> dict:
        overrides = {p["Name"]: p["Value"] for p in kwargs.get("PipelineParameters") or []}
        parallelism = (kwargs.get("ParallelismConfiguration") or {}).get(
            "MaxParallelExecutionSteps"
        )
        arn = self.backend.start_execution(
            kwargs["PipelineName"],
            overrides,
            kwargs.get("PipelineExecutionDisplayName"),
            kwargs.get("PipelineExecutionDescription"),
            max_parallel=parallelism,
        )
        return {"PipelineExecutionArn": arn}

    @_operation("DescribePipelineExecution")
    def describe_pipeline_execution(self, **kwargs) -> dict:
        e = self.backend.execution(kwargs["PipelineExecutionArn"])
        response = {
            "PipelineArn": e["arn"].split("/execution/")[0],
            "PipelineExecutionArn": e["arn"],
            "PipelineExecutionDisplayName": e["display_name"],
            "PipelineExecutionStatus": e["status"],
            "PipelineExecutionDescription": e["description"] or "",
            "PipelineExperimentConfig": {
                "ExperimentName": e["pipeline_name"].lower(),
                "TrialName": e["id"],
            },
            "CreationTime": _dt(e["created"]),
            "LastModifiedTime": _dt(e["modified"]),
        }
        if e["failure_reason"]:
            response["FailureReason"] = e["failure_reason"]
        return response

    @_operation("ListPipelineExecutions")
    def list_pipeline_executions(self, **kwargs) -> dict:
        return {
            "PipelineExecutionSummaries": [
                {
                    "PipelineExecutionArn": e["arn"],
                    "StartTime": _dt(e["created"]),
                    "PipelineExecutionStatus": e["status"],
                    "PipelineExecutionDisplayName": e["display_name"],
                    **(
                        {"PipelineExecutionFailureReason": e["failure_reason"]}
                        if e["failure_reason"]
                        else {}
                    ),
                }
                for e in self.backend.history.executions(
                    self.backend.pipeline(kwargs["PipelineName"])["name"]
                )
            ]
        }

    @_operation("ListPipelineExecutionSteps")
    def list_pipeline_execution_steps(self, **kwargs) -> dict:
        arn = kwargs["PipelineExecutionArn"]
        self.backend.execution(arn)
        steps = self.backend.history.steps(arn)
        if kwargs.get("SortOrder") == "Ascending":
            steps = list(reversed(steps))
        return {"PipelineExecutionSteps": [_step_summary(s) for s in steps]}

    @_operation("ListPipelineParametersForExecution")
    def list_pipeline_parameters_for_execution(self, **kwargs) -> dict:
        e = self.backend.execution(kwargs["PipelineExecutionArn"])
        return {"PipelineParameters": json.loads(e["parameters"])}

    @_operation("StopPipelineExecution")
    def stop_pipeline_execution(self, **kwargs) -> dict:
        self.backend.stop_execution(kwargs["PipelineExecutionArn"])
        return {"PipelineExecutionArn": kwargs["PipelineExecutionArn"]}

    # jobs the steps ran
    def _job(self, kind: str, name: str) -> dict:
        properties = self.backend.history.job_properties(f"{kind}JobName", name)
        if properties is None:
            raise LocalTargetError(f"Could not find {kind.lower()} job '{name}'.")
        for key, value in list(properties.items()):
            if key.endswith("Time") and isinstance(value, str):
                properties[key] = _dt(value)
        for metric in properties.get("FinalMetricDataList") or []:
            metric["Timestamp"] = _dt(metric["Timestamp"])
        return properties

    @_operation("DescribeProcessingJob")
    def describe_processing_job(self, **kwargs) -> dict:
        return self._job("Processing", kwargs["ProcessingJobName"])

    @_operation("DescribeTrainingJob")
    def describe_training_job(self, **kwargs) -> dict:
        return self._job("Training", kwargs["TrainingJobName"])

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

    @_operation("DescribeTransformJob")
    def describe_transform_job(self, **kwargs) -> dict:
        return self._job("Transform", kwargs["TransformJobName"])

    # model registry
    @_operation("CreateModelPackageGroup")
    def create_model_package_group(self, **kwargs) -> dict:
        return self.backend.registry.create_model_package_group(
            kwargs["ModelPackageGroupName"], kwargs.get("ModelPackageGroupDescription")
        )

    @_operation("DescribeModelPackageGroup")
    def describe_model_package_group(self, **kwargs) -> dict:
        return self.backend.registry.describe_model_package_group(kwargs["ModelPackageGroupName"])

    @_operation("ListModelPackageGroups")
    def list_model_package_groups(self, **kwargs) -> dict:
        prefix = kwargs.get("NameContains") or ""
        groups = [
            g
            for g in self.backend.registry.list_model_package_groups()
            if prefix in g["ModelPackageGroupName"]
        ]
        return {"ModelPackageGroupSummaryList": groups}

    @_operation("CreateModelPackage")
    def create_model_package(self, **kwargs) -> dict:
        package = self.backend.registry.create_model_package(kwargs)
        return {"ModelPackageArn": package["ModelPackageArn"]}

    @_operation("DescribeModelPackage")
    def describe_model_package(self, **kwargs) -> dict:
        return self.backend.registry.describe_model_package(kwargs["ModelPackageName"])

    @_operation("ListModelPackages")
    def list_model_packages(self, **kwargs) -> dict:
        packages = self.backend.registry.list_model_packages(
            kwargs.get("ModelPackageGroupName"), kwargs.get("ModelApprovalStatus")
        )
        if kwargs.get("SortOrder") == "Ascending":
            packages = list(reversed(packages))
        keys = (
            "ModelPackageName",
            "ModelPackageGroupName",
            "ModelPackageVersion",
            "ModelPackageArn",
            "ModelPackageDescription",
            "CreationTime",
            "ModelPackageStatus",
            "ModelApprovalStatus",
        )
        return {"ModelPackageSummaryList": [{k: p[k] for k in keys if k in p} for p in packages]}

    @_operation("UpdateModelPackage")
    def update_model_package(self, **kwargs) -> dict:
        return self.backend.registry.update_model_package(
            kwargs["ModelPackageArn"],
            kwargs.get("ModelApprovalStatus"),
            kwargs.get("ApprovalDescription"),
        )


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _step_summary(step: StepRecord) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "StepName": step.name,
        "StepStatus": step.status,
        "AttemptCount": step.attempts,
    }
    if step.display_name:
        summary["StepDisplayName"] = step.display_name
    if step.started:
        summary["StartTime"] = step.started
    if step.ended:
        summary["EndTime"] = step.ended
    if step.failure_reason:
        summary["FailureReason"] = step.failure_reason
    summary["Metadata"] = step.metadata or {}
    if step.cache_source:
        summary["CacheHitResult"] = {"SourcePipelineExecutionArn": step.cache_source}
    return summary
