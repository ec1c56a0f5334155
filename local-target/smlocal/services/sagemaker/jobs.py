"""Processing, training and transform jobs (pipeline steps' jobs too), from the job runner."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from botocore.utils import parse_timestamp

from smlocal.jobs import KINDS, JobRecord
from smlocal.services.sagemaker.base import _operation

_EPOCH = datetime.min.replace(tzinfo=timezone.utc)
_END = datetime.max.replace(tzinfo=timezone.utc)


class JobsAPI:
    """Create/Describe/List/Stop of each job kind."""

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
