"""A tuning job's trials: the training jobs it asks for, and how they rank.

What a ``CreateHyperParameterTuningJob`` request says about its trials (objective, ranges,
static hyperparameters, the ``CreateTrainingJob`` request of each trial) and what the API
reports of them (``HyperParameterTrainingJobSummary``, status counters, the best job).
"""

from __future__ import annotations

from typing import Any, Optional

from smlocal.jobs.records import JobRecord
from smlocal.retries import JOB_INTERNAL_ERROR, SERVICE_FAULT

# What each trial takes from the TrainingJobDefinition, as CreateTrainingJob names it.
TRIAL_FIELDS = (
    "RoleArn",
    "InputDataConfig",
    "VpcConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "StoppingCondition",
    "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
    "RetryStrategy",
    "Environment",
)
ALGORITHM_FIELDS = ("TrainingImage", "TrainingInputMode", "AlgorithmName", "MetricDefinitions")
RETRYABLE = (JOB_INTERNAL_ERROR, SERVICE_FAULT)


def config(request: dict) -> dict:
    return request.get("HyperParameterTuningJobConfig") or {}


def definition(request: dict) -> dict:
    return request.get("TrainingJobDefinition") or {}


def objective(request: dict) -> Optional[dict]:
    """``{"Type": "Minimize"|"Maximize", "MetricName": ...}``: the job's, else its definition's."""
    return (
        config(request).get("HyperParameterTuningJobObjective")
        or definition(request).get("TuningObjective")
        or None
    )


def ranges(request: dict) -> dict:
    return config(request).get("ParameterRanges") or definition(request).get("HyperParameterRanges")


def tuned_names(request: dict) -> list[str]:
    raw = ranges(request) or {}
    return [
        r["Name"]
        for key in (
            "IntegerParameterRanges",
            "ContinuousParameterRanges",
            "CategoricalParameterRanges",
        )
        for r in raw.get(key) or []
    ]


def static(request: dict) -> dict:
    return dict(definition(request).get("StaticHyperParameters") or {})


def trial_request(request: dict, tuning_arn: str, name: str, tuned: dict) -> dict:
    """The ``CreateTrainingJob`` request of one trial (``TuningJobArn`` links it to the job)."""
    spec = definition(request)
    algorithm = spec.get("AlgorithmSpecification") or {}
    trial = {
        "TrainingJobName": name,
        "HyperParameters": {**static(request), **tuned},
        "AlgorithmSpecification": {k: algorithm[k] for k in ALGORITHM_FIELDS if k in algorithm},
        **{k: spec[k] for k in TRIAL_FIELDS if k in spec},
        "TuningJobArn": tuning_arn,
    }
    if isinstance(trial.get("OutputDataConfig"), dict):  # described with its KmsKeyId, even ""
        trial["OutputDataConfig"] = {"KmsKeyId": "", **trial["OutputDataConfig"]}
    resources = spec.get("HyperParameterTuningResourceConfig")
    if "ResourceConfig" not in trial and resources:
        trial["ResourceConfig"] = {
            k: resources[k]
            for k in ("InstanceType", "InstanceCount", "VolumeSizeInGB", "VolumeKmsKeyId")
            if k in resources
        }
    return trial


def objective_value(trial: JobRecord, metric: str) -> Optional[float]:
    """The trial's final value of the objective metric, if it completed and emitted it."""
    if trial.status != "Completed":
        return None
    for item in trial.result.get("FinalMetricDataList") or []:
        if item.get("MetricName") == metric:
            return float(item["Value"])
    return None


def objective_status(trial: JobRecord, metric: str) -> str:
    if trial.active:
        return "Pending"
    return "Succeeded" if objective_value(trial, metric) is not None else "Failed"


def summary(trial: JobRecord, request: dict, tuning_name: str) -> dict:
    """``HyperParameterTrainingJobSummary`` of one trial of the tuning job ``request``."""
    goal = objective(request) or {}
    hyperparameters = trial.request.get("HyperParameters") or {}
    fields: dict[str, Any] = {
        "TrainingJobName": trial.name,
        "TrainingJobArn": trial.arn,
        "TuningJobName": tuning_name,
        "CreationTime": trial.created,
        "TrainingStartTime": trial.started,
        "TrainingEndTime": trial.ended,
        "TrainingJobStatus": trial.status,
        "TunedHyperParameters": {
            n: hyperparameters[n] for n in tuned_names(request) if n in hyperparameters
        },
        "ObjectiveStatus": objective_status(trial, goal.get("MetricName")),
    }
    value = objective_value(trial, goal.get("MetricName"))
    if value is not None:
        fields["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": goal.get("Type"),
            "MetricName": goal.get("MetricName"),
            "Value": value,
        }
    if trial.failure_reason:
        fields["FailureReason"] = trial.failure_reason
    return {k: v for k, v in fields.items() if v is not None}


def counters(trials: list[JobRecord], metric: str) -> tuple[dict, dict]:
    """``TrainingJobStatusCounters`` and ``ObjectiveStatusCounters`` of the trials."""
    status = {"Completed": 0, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0}
    status["Stopped"] = 0
    objectives = {"Succeeded": 0, "Pending": 0, "Failed": 0}
    for trial in trials:
        if trial.active:
            status["InProgress"] += 1
        elif trial.status == "Failed":
            retryable = trial.failure_kind in RETRYABLE
            status["RetryableError" if retryable else "NonRetryableError"] += 1
        else:
            status[trial.status] += 1
        objectives[objective_status(trial, metric)] += 1
    return status, objectives


def ranked(summaries: list[dict], maximize: bool) -> list[dict]:
    """The summaries with an objective value, best first (ties: the earlier job first)."""
    scored = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in s]

    def key(s: dict):
        value = s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        return (-value if maximize else value, s["CreationTime"])

    return sorted(scored, key=key)


def is_better(value: float, best: Optional[float], maximize: bool) -> bool:
    return best is None or (value > best if maximize else value < best)
