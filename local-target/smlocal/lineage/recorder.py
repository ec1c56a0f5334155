"""What SageMaker records for lineage, recorded here when jobs end, packages are made and models deployed.

The graph, upstream to downstream (associations in brackets):

- a job is a trial component (``<job>-aws-training-job``...); each input (data set, code) and
  its image are artifacts [ContributedTo] it; each output it wrote is an artifact it
  [Produced] (a training job's ``model.tar.gz`` is a ``Model`` artifact);
- a model package version is a ``ModelPackage`` artifact (source: the package's ARN): its
  model data and image [ContributedTo] it; it is [AssociatedWith] its group's ``ModelGroup``
  context and [ContributedTo] an ``Approval`` action (``<group>-<version>-aws-model-package``);
- a deployment is a ``ModelDeployment`` action: the model data, the package and its approval
  [ContributedTo] it; it is [AssociatedWith] the endpoint's ``Endpoint`` context.

Artifacts are found by URI and content hash, so a training job's output and the data the next
job reads are one artifact, and a chain runs from the input data set to the endpoint.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from smlocal import config
from smlocal.lineage.hashing import content_hash
from smlocal.lineage.store import ACTION, ARTIFACT, CONTEXT, TRIAL_COMPONENT, Entity, LineageStore
from smlocal.lineage.store import artifact_key
from smlocal.store import ObjectStore

if TYPE_CHECKING:
    from smlocal.endpoints.records import EndpointRecord
    from smlocal.endpoints.resolve import ServedModel
    from smlocal.jobs.records import JobRecord

CONTRIBUTED, PRODUCED, ASSOCIATED = "ContributedTo", "Produced", "AssociatedWith"
# job kind -> (vertex type, trial component source type)
JOB_TYPES = {
    "Processing": ("ProcessingJob", "SageMakerProcessingJob"),
    "Training": ("TrainingJob", "SageMakerTrainingJob"),
    "Transform": ("TransformJob", "SageMakerTransformJob"),
}
STATUSES = {"Completed": "Completed", "Failed": "Failed", "Stopped": "Stopped"}
NAME_LIMIT = 120


def _name(*parts: str) -> str:
    """A lineage entity name from parts, within SageMaker's 120 characters."""
    text = "-".join(p for p in parts if p)
    if len(text) <= NAME_LIMIT:
        return text
    return text[: NAME_LIMIT - 9] + "-" + hashlib.sha256(text.encode()).hexdigest()[:8]


def _unquote(value: Any) -> Any:
    """Hyperparameters arrive JSON-quoted from the SDK (``'"s3://..."'``)."""
    if isinstance(value, str) and value.startswith('"') and value.endswith('"'):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class Recorder:
    """Records lineage into one state folder, hashing contents in its object store."""

    def __init__(self, home: Path, region: str, account: str = config.ACCOUNT_ID):
        self.home = Path(home)
        self.lineage = LineageStore(self.home / "state.sqlite", region, account)
        self.store = ObjectStore(self.home / "s3")
        self.region, self.account = region, account

    # entities
    def artifact(self, uri: str, artifact_type: str, properties: Optional[dict] = None) -> Entity:
        """The artifact of ``uri`` with its present content (made if new)."""
        uri = uri.rstrip("/") if uri.startswith("s3://") else uri
        digest = content_hash(uri, self.store) if artifact_type != "Image" else None
        source: dict[str, Any] = {"SourceUri": uri}
        if digest:
            source["SourceTypes"] = [{"SourceIdType": "Custom", "Value": digest}]
        record = {"Source": source, "ArtifactType": artifact_type}
        if properties:
            record["Properties"] = properties
        entity, _ = self.lineage.put(
            ARTIFACT,
            artifact_key(uri, digest),
            record,
            type=artifact_type,
            source_uri=uri,
            content_hash=digest,
        )
        return entity

    def action(self, name: str, action_type: str, source_uri: str, properties: dict) -> Entity:
        record = {
            "ActionName": name,
            "Source": {"SourceUri": source_uri, "SourceType": "ARN"},
            "ActionType": action_type,
            "Status": "Completed",
            "Properties": properties,
        }
        entity, _ = self.lineage.put(
            ACTION, name, record, type=action_type, source_uri=source_uri, replace=True
        )
        return entity

    def context(self, name: str, context_type: str, source_uri: str, properties: dict) -> Entity:
        record = {
            "ContextName": name,
            "Source": {"SourceUri": source_uri, "SourceType": "ARN"},
            "ContextType": context_type,
            "Properties": properties,
        }
        entity, _ = self.lineage.put(
            CONTEXT, name, record, type=context_type, source_uri=source_uri, replace=True
        )
        return entity

    def link(self, source: Entity, destination: Entity, association_type: str) -> None:
        self.lineage.associate(source.arn, destination.arn, association_type)

    # jobs
    def job(self, record: "JobRecord") -> Entity:
        """Record a finished job's trial component, inputs and outputs (``record``: a JobRecord)."""
        vertex_type, source_type = JOB_TYPES[record.kind]
        request = record.request
        inputs, image = self._job_inputs(record.kind, request)
        outputs = self._job_outputs(record) if record.status == "Completed" else []
        status = {"PrimaryStatus": STATUSES.get(record.status, "Unknown")}
        if record.failure_reason:
            status["Message"] = record.failure_reason[:1024]
        name = _name(record.name, f"aws-{record.kind.lower()}-job")
        trial_component = {
            "TrialComponentName": name,
            "DisplayName": record.name,
            "Source": {"SourceArn": record.arn, "SourceType": source_type},
            "Status": status,
            "StartTime": record.started,
            "EndTime": record.ended,
            "Parameters": {
                k: {"StringValue": str(_unquote(v))}
                for k, v in (request.get("HyperParameters") or {}).items()
            },
            "InputArtifacts": {label: {"Value": uri} for label, uri, _ in inputs},
            "OutputArtifacts": {label: {"Value": uri} for label, uri, _ in outputs},
        }
        component, _ = self.lineage.put(
            TRIAL_COMPONENT,
            name,
            {k: v for k, v in trial_component.items() if v not in (None, {})},
            type=vertex_type,
            source_uri=record.arn,
            replace=True,
        )
        if image:
            self.link(self.artifact(image, "Image"), component, CONTRIBUTED)
        for _, uri, artifact_type in inputs:
            self.link(self.artifact(uri, artifact_type), component, CONTRIBUTED)
        for _, uri, artifact_type in outputs:
            self.link(component, self.artifact(uri, artifact_type), PRODUCED)
        return component

    def _job_inputs(self, kind: str, request: dict) -> tuple[list[tuple[str, str, str]], str]:
        """(label, URI, artifact type) of each input, and the image."""
        inputs: list[tuple[str, str, str]] = []
        if kind == "Processing":
            for item in request.get("ProcessingInputs") or []:
                uri = (item.get("S3Input") or {}).get("S3Uri")
                if isinstance(uri, str):
                    label = item.get("InputName") or uri
                    inputs.append((label, uri, "Code" if label == "code" else "DataSet"))
            return inputs, (request.get("AppSpecification") or {}).get("ImageUri", "")
        if kind == "Training":
            for channel in request.get("InputDataConfig") or []:
                uri = ((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
                if isinstance(uri, str):
                    inputs.append((channel.get("ChannelName") or uri, uri, "DataSet"))
            code = _unquote(
                (request.get("HyperParameters") or {}).get("sagemaker_submit_directory")
            )
            if isinstance(code, str) and code.startswith("s3://"):
                inputs.append(("code", code, "Code"))
            return inputs, (request.get("AlgorithmSpecification") or {}).get("TrainingImage", "")
        source = ((request.get("TransformInput") or {}).get("DataSource") or {}).get("S3DataSource")
        if isinstance((source or {}).get("S3Uri"), str):
            inputs.append(("input", source["S3Uri"], "DataSet"))
        image = ""
        model = self._model(request.get("ModelName"))
        if model:
            container = model.get("PrimaryContainer") or {}
            image = container.get("Image", "")
            if container.get("ModelDataUrl"):
                inputs.append(("model", container["ModelDataUrl"], "Model"))
        return inputs, image

    def _job_outputs(self, record: "JobRecord") -> list[tuple[str, str, str]]:
        request = record.request
        if record.kind == "Processing":
            outputs = (request.get("ProcessingOutputConfig") or {}).get("Outputs") or []
            return [
                (o.get("OutputName") or o["S3Output"]["S3Uri"], o["S3Output"]["S3Uri"], "DataSet")
                for o in outputs
                if isinstance((o.get("S3Output") or {}).get("S3Uri"), str)
            ]
        if record.kind == "Training":
            artifacts = record.result.get("ModelArtifacts") or {}
            uri = artifacts.get("S3ModelArtifacts") or (
                f"{request['OutputDataConfig']['S3OutputPath'].rstrip('/')}/"
                f"{record.name}/output/model.tar.gz"
            )
            return [("SageMaker.ModelArtifact", uri, "Model")]
        uri = (request.get("TransformOutput") or {}).get("S3OutputPath")
        return [("output", uri, "DataSet")] if isinstance(uri, str) else []

    def _model(self, name: Optional[str]) -> Optional[dict]:
        from smlocal.models import ModelNotFound, ModelStore

        if not name:
            return None
        try:
            return ModelStore(self.home / "state.sqlite", self.region, self.account).describe(name)
        except ModelNotFound:
            return None

    # model packages
    def model_package(self, package: dict) -> Entity:
        """A new model package version: its artifact, group context and approval action."""
        arn, group = package["ModelPackageArn"], package["ModelPackageGroupName"]
        version = package.get("ModelPackageVersion")
        artifact = self.artifact(
            arn,
            "ModelPackage",
            {"ModelPackageGroupName": group, "ModelPackageVersion": str(version)},
        )
        containers = (package.get("InferenceSpecification") or {}).get("Containers") or []
        for container in containers:
            if container.get("ModelDataUrl"):
                self.link(self.artifact(container["ModelDataUrl"], "Model"), artifact, CONTRIBUTED)
            if container.get("Image"):
                self.link(self.artifact(container["Image"], "Image"), artifact, CONTRIBUTED)
        execution = (package.get("MetadataProperties") or {}).get("GeneratedBy")
        group_context = self.context(
            _name(group, "aws-model-package-group"),
            "ModelGroup",
            config.arn(self.region, self.account, "model-package-group", group),
            {"PipelineExecutionArn": execution} if execution else {},
        )
        self.link(artifact, group_context, ASSOCIATED)
        approval = self.action(
            _name(group, str(version), "aws-model-package"),
            "Approval",
            arn,
            {"ModelApprovalStatus": package.get("ModelApprovalStatus", "")},
        )
        self.link(artifact, approval, CONTRIBUTED)
        return artifact

    # deployments
    def deployment(
        self, endpoint: "EndpointRecord", config_name: str, model: "ServedModel", generation: int
    ) -> Entity:
        """Record that an endpoint now serves a configuration (a model deployment)."""
        context = self.context(
            _name(endpoint.name, "aws-endpoint"),
            "Endpoint",
            endpoint.arn,
            {"EndpointConfigName": config_name},
        )
        action = self.action(
            _name(endpoint.name, str(generation), "aws-model-deployment"),
            "ModelDeployment",
            config.arn(self.region, self.account, "endpoint-config", config_name),
            {"EndpointConfigName": config_name, "ModelName": model.model_name},
        )
        if model.model_data:
            self.link(self.artifact(model.model_data, "Model"), action, CONTRIBUTED)
        if model.package_arn:
            packages = self.lineage.entities(ARTIFACT, source_uri=model.package_arn)
            for package in packages:
                self.link(package, action, CONTRIBUTED)
            for approval in self.lineage.entities(ACTION, source_uri=model.package_arn):
                self.link(approval, action, CONTRIBUTED)
        self.link(action, context, ASSOCIATED)
        return action
