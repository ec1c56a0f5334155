"""Hyperparameter tuning jobs and their training jobs, from the job runner."""

from __future__ import annotations

from smlocal.jobs.tuning import KIND
from smlocal.services.sagemaker.base import _operation
from smlocal.services.sagemaker.jobs import _matches

# ListTrainingJobsForHyperParameterTuningJob's sort keys, on HyperParameterTrainingJobSummary.
_TRIAL_SORT = {
    "Name": lambda s: s["TrainingJobName"],
    "CreationTime": lambda s: s["CreationTime"],
    "Status": lambda s: s["TrainingJobStatus"],
}


def _page(items: list, kwargs: dict, key: str) -> dict:
    start = int(kwargs.get("NextToken") or 0)
    end = start + int(kwargs.get("MaxResults") or 10)
    response = {key: items[start:end]}
    if end < len(items):
        response["NextToken"] = str(end)
    return response


class TuningAPI:
    """Create/Describe/List/Stop of tuning jobs, and the list of a tuning job's training jobs."""

    @_operation("CreateHyperParameterTuningJob")
    def create_hyper_parameter_tuning_job(self, **kwargs) -> dict:
        return self._create_job(KIND, kwargs)

    @_operation("DescribeHyperParameterTuningJob")
    def describe_hyper_parameter_tuning_job(self, **kwargs) -> dict:
        return self.backend.jobs.describe(KIND, kwargs["HyperParameterTuningJobName"])

    @_operation("ListHyperParameterTuningJobs")
    def list_hyper_parameter_tuning_jobs(self, **kwargs) -> dict:
        runner = self.backend.jobs
        kind = runner.kind(KIND)
        records = [
            r for r in runner.records.list(KIND, self.backend.region) if _matches(r, KIND, kwargs)
        ]
        key = {"Name": lambda r: r.name, "Status": lambda r: r.status}.get(
            kwargs.get("SortBy"), lambda r: r.created
        )
        records.sort(key=key, reverse=kwargs.get("SortOrder") == "Descending")
        return _page([kind.summary(r) for r in records], kwargs, "HyperParameterTuningJobSummaries")

    @_operation("ListTrainingJobsForHyperParameterTuningJob")
    def list_training_jobs_for_hyper_parameter_tuning_job(self, **kwargs) -> dict:
        """Sorted by Name by default; by FinalObjectiveMetricValue, only the jobs with a value."""
        runner = self.backend.jobs
        record = runner.get(KIND, kwargs["HyperParameterTuningJobName"])
        summaries = runner.kind(KIND).summaries(record)
        if kwargs.get("StatusEquals"):
            summaries = [s for s in summaries if s["TrainingJobStatus"] == kwargs["StatusEquals"]]
        sort_by = kwargs.get("SortBy") or "Name"
        if sort_by == "FinalObjectiveMetricValue":
            summaries = sorted(
                (s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in s),
                key=lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
                reverse=kwargs.get("SortOrder") == "Descending",
            )
        else:
            summaries.sort(
                key=_TRIAL_SORT[sort_by], reverse=kwargs.get("SortOrder") == "Descending"
            )
        return _page(summaries, kwargs, "TrainingJobSummaries")

    @_operation("StopHyperParameterTuningJob")
    def stop_hyper_parameter_tuning_job(self, **kwargs) -> dict:
        self.backend.jobs.stop(KIND, kwargs["HyperParameterTuningJobName"])
        return {}
