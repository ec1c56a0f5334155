"""Pipelines and their executions."""

from __future__ import annotations

import json
from typing import Any

from smlocal.backend import NotFound
from smlocal.callbacks import FAILED, SUCCEEDED, WAITING, CallbackDone, CallbackNotFound
from smlocal.errors import LocalTargetError
from smlocal.executions import ACTIVE, StepRecord
from smlocal.jobs import KINDS
from smlocal.services.base import ServiceError
from smlocal.services.sagemaker.base import _dt, _operation


class PipelinesAPI:
    """CreatePipeline ... ListPipelineExecutionSteps, over the backend's records and engine."""

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
        """A pipeline's tags, or a job's (the SDK's ``attach`` lists a training job's)."""
        arn = kwargs["ResourceArn"]
        resource, _, name = arn.rpartition(":")[2].partition("/")
        kind = next((k for k, v in KINDS.items() if v.resource == resource), None)
        if kind is not None:
            return {"Tags": list(self.backend.jobs.get(kind, name).tags)}
        return {"Tags": json.loads(self.backend.pipeline(arn)["tags"])}

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
            selective=kwargs.get("SelectiveExecutionConfig"),
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
            "CreationTime": _dt(e["created"]),
            "LastModifiedTime": _dt(e["modified"]),
        }
        if e.get("experiment"):  # the definition's PipelineExperimentConfig, resolved at start
            response["PipelineExperimentConfig"] = json.loads(e["experiment"])
        if e.get("selective"):
            response["SelectiveExecutionConfig"] = json.loads(e["selective"])
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

    # callback steps
    def _complete_callback(self, token: str, status: str, **outcome) -> dict:
        callbacks = self.backend.services.callbacks
        try:
            waiting = callbacks.get(token)
            execution = self.backend.execution(waiting.execution_arn)
            if waiting.status == WAITING and execution["status"] not in ACTIVE:  # its process ended
                raise CallbackDone(
                    f"Pipeline execution {execution['arn']} is {execution['status']}; "
                    f"step {waiting.step_name} can no longer be completed"
                )
            callback = callbacks.complete(token, status, **outcome)
        except CallbackNotFound as err:
            raise ServiceError("ResourceNotFound", str(err)) from None
        except CallbackDone as err:
            raise ServiceError("ConflictException", str(err)) from None
        return {"PipelineExecutionArn": callback.execution_arn}

    @_operation("SendPipelineExecutionStepSuccess")
    def send_pipeline_execution_step_success(self, **kwargs) -> dict:
        """Complete a waiting CallbackStep with its output parameters (any process may)."""
        return self._complete_callback(
            kwargs["CallbackToken"],
            SUCCEEDED,
            outputs=kwargs.get("OutputParameters") or [],
            request_token=kwargs.get("ClientRequestToken"),
        )

    @_operation("SendPipelineExecutionStepFailure")
    def send_pipeline_execution_step_failure(self, **kwargs) -> dict:
        """Fail a waiting CallbackStep with the reason given."""
        return self._complete_callback(
            kwargs["CallbackToken"],
            FAILED,
            failure_reason=kwargs.get("FailureReason") or "The callback reported a failure",
            request_token=kwargs.get("ClientRequestToken"),
        )

    @_operation("StopPipelineExecution")
    def stop_pipeline_execution(self, **kwargs) -> dict:
        self.backend.stop_execution(kwargs["PipelineExecutionArn"])
        return {"PipelineExecutionArn": kwargs["PipelineExecutionArn"]}


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
    if step.selective_source:
        summary["SelectiveExecutionResult"] = {"SourcePipelineExecutionArn": step.selective_source}
    return summary
