"""The SageMaker service: pipelines, executions, jobs, models and the model registry.

The response layer over ``backend`` (as moto splits the wire from the state): operations in
boto3's names and response shapes, errors with SageMaker's codes.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from botocore.utils import parse_timestamp

from smlocal import config
from smlocal.backend import Conflict, NotFound, get_backend
from smlocal.errors import LocalTargetError
from smlocal.executions import StepRecord
from smlocal.jobs import KINDS, JobExists, JobRecord
from smlocal.registry import RegistryError
from smlocal.services.base import Service, ServiceError
from smlocal.store import StoreError


def _operation(name: str) -> Callable:
    """Map the backend's errors to SageMaker's error codes (botocore validated the request)."""

    def decorate(func: Callable) -> Callable:
        def method(self, **kwargs):
            try:
                return func(self, **kwargs)
            except NotFound as err:
                raise ServiceError("ResourceNotFound", str(err)) from None
            except JobExists as err:
                raise ServiceError("ResourceInUse", str(err)) from None
            except RegistryError as err:
                raise ServiceError(err.code, str(err)) from None
            except (Conflict, LocalTargetError, StoreError) as err:
                raise ServiceError("ValidationException", str(err)) from None

        method.__name__ = func.__name__
        method.__doc__ = func.__doc__
        return method

    return decorate


_EPOCH = datetime.min.replace(tzinfo=timezone.utc)
_END = datetime.max.replace(tzinfo=timezone.utc)


class SageMakerService(Service):
    """The SageMaker API subset that pipelines, jobs and the model registry use."""

    name = "sagemaker"

    def __init__(self, home: Path, region: str = config.DEFAULT_REGION):
        self.backend = get_backend(Path(home), region)

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

    # jobs: processing, training, transform (pipeline steps' jobs too)
    def _create_job(self, kind: str, kwargs: dict) -> dict:
        record = self.backend.jobs.start(kind, kwargs)
        return {f"{kind}JobArn": record.arn}

    def _list_jobs(self, kind: str, kwargs: dict) -> dict:
        records = self.backend.jobs.records.list(kind, self.backend.region)
        records = [r for r in records if _matches(r, kind, kwargs)]
        key = {"Name": lambda r: r.name, "Status": lambda r: r.status}.get(
            kwargs.get("SortBy"), lambda r: r.created
        )
        records.sort(key=key, reverse=kwargs.get("SortOrder") == "Descending")
        start = int(kwargs.get("NextToken") or 0)
        end = start + int(kwargs.get("MaxResults") or 10)
        summaries = [KINDS[kind].summary(r) for r in records[start:end]]
        response = {f"{kind}JobSummaries": summaries}
        if end < len(records):
            response["NextToken"] = str(end)
        return response

    @_operation("CreateProcessingJob")
    def create_processing_job(self, **kwargs) -> dict:
        return self._create_job("Processing", kwargs)

    @_operation("DescribeProcessingJob")
    def describe_processing_job(self, **kwargs) -> dict:
        return self.backend.jobs.describe("Processing", kwargs["ProcessingJobName"])

    @_operation("ListProcessingJobs")
    def list_processing_jobs(self, **kwargs) -> dict:
        return self._list_jobs("Processing", kwargs)

    @_operation("StopProcessingJob")
    def stop_processing_job(self, **kwargs) -> dict:
        self.backend.jobs.stop("Processing", kwargs["ProcessingJobName"])
        return {}

    @_operation("CreateTrainingJob")
    def create_training_job(self, **kwargs) -> dict:
        return self._create_job("Training", kwargs)

    @_operation("DescribeTrainingJob")
    def describe_training_job(self, **kwargs) -> dict:
        return self.backend.jobs.describe("Training", kwargs["TrainingJobName"])

    @_operation("ListTrainingJobs")
    def list_training_jobs(self, **kwargs) -> dict:
        return self._list_jobs("Training", kwargs)

    @_operation("StopTrainingJob")
    def stop_training_job(self, **kwargs) -> dict:
        self.backend.jobs.stop("Training", kwargs["TrainingJobName"])
        return {}

    @_operation("CreateTransformJob")
    def create_transform_job(self, **kwargs) -> dict:
        return self._create_job("Transform", kwargs)

    @_operation("DescribeTransformJob")
    def describe_transform_job(self, **kwargs) -> dict:
        return self.backend.jobs.describe("Transform", kwargs["TransformJobName"])

    @_operation("ListTransformJobs")
    def list_transform_jobs(self, **kwargs) -> dict:
        return self._list_jobs("Transform", kwargs)

    @_operation("StopTransformJob")
    def stop_transform_job(self, **kwargs) -> dict:
        self.backend.jobs.stop("Transform", kwargs["TransformJobName"])
        return {}

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


def _matches(record: JobRecord, kind: str, filters: dict) -> bool:
    """List*Jobs' filters: name, status, creation and modification times."""
    return (
        (filters.get("NameContains") or "").lower() in record.name.lower()
        and filters.get("StatusEquals", record.status) == record.status
        and record.created > _when(filters.get("CreationTimeAfter"), _EPOCH)
        and record.created < _when(filters.get("CreationTimeBefore"), _END)
        and record.modified > _when(filters.get("LastModifiedTimeAfter"), _EPOCH)
        and record.modified < _when(filters.get("LastModifiedTimeBefore"), _END)
    )


def _when(value: Any, default: datetime) -> datetime:
    """A timestamp parameter as the caller gave it (datetime, ISO text or epoch seconds)."""
    if value is None:
        return default
    if not isinstance(value, datetime):
        value = parse_timestamp(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


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
