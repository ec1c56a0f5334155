"""What the state folder holds, and removing old executions without breaking what is kept.

Reads the state only through the SageMaker and S3 APIs the local target serves (executions,
their steps' jobs, registered model versions, objects) and the folder layout the README
documents (``executions/<id>/``, ``s3/``, ``datasets/``, ...), never its database.

What an execution's removal takes: its folder (``executions/<id>/``: step folders, logs,
picture) and the objects its jobs wrote (processing outputs, training output prefixes,
transform outputs), except any object a kept execution or a registered model version (not
Rejected) still refers to: a later execution's cache hit, a model's artifact, an evaluation
report behind a version's metrics. Execution records stay, as on SageMaker, which deletes none.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Optional

from smlocal import config

# Folders of the state home that are re-made on demand: removing them loses nothing.
CACHES = ("datasets",)  # public data sets, fetched when a step first reads them
ENVIRONMENTS = "environments"  # the images' Python environments, made when a step first runs
FINAL = ("Succeeded", "Failed", "Stopped")
PROTECTED_STATUSES = ("Approved", "PendingManualApproval")
_OUTPUT_ROOTS = (
    "OutputDataConfig",
    "CheckpointConfig",
    "DebugHookConfig",
    "DebugRuleConfigurations",
    "TensorBoardOutputConfig",
    "ProfilerConfig",
    "ProfilerRuleConfigurations",
)
_DESCRIBE = {
    "ProcessingJob": ("describe_processing_job", "ProcessingJobName"),
    "TrainingJob": ("describe_training_job", "TrainingJobName"),
    "TransformJob": ("describe_transform_job", "TransformJobName"),
    "Model": ("describe_model", "ModelName"),
}


@dataclass
class Execution:
    """One pipeline execution: where it keeps things, and what its jobs read and wrote."""

    arn: str
    pipeline: str
    status: str
    started: Optional[datetime]
    folder: Path
    folder_bytes: int = 0
    outputs: list[str] = field(default_factory=list)
    references: set[str] = field(default_factory=set)
    output_bytes: int = 0

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    def as_dict(self) -> dict:
        return {
            "PipelineExecutionArn": self.arn,
            "PipelineName": self.pipeline,
            "PipelineExecutionStatus": self.status,
            "StartTime": self.started.isoformat() if self.started else None,
            "Folder": str(self.folder),
            "FolderBytes": self.folder_bytes,
            "Outputs": self.outputs,
            "OutputBytes": self.output_bytes,
        }


@dataclass
class Plan:
    """What a clean-up removes and what it keeps, before anything is removed."""

    remove: list[Execution]
    keep: list[Execution]
    orphans: list[Path]
    delete_prefixes: dict[str, int]  # prefix -> bytes
    spared_prefixes: dict[str, int]
    caches: list[Path]

    @property
    def freed_bytes(self) -> int:
        folders = sum(e.folder_bytes for e in self.remove) + sum(map(folder_size, self.orphans))
        return folders + sum(self.delete_prefixes.values()) + sum(map(folder_size, self.caches))


def folder_size(path: Path) -> int:
    """Bytes of the files under ``path`` (0 when it does not exist)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def s3_uris(value: Any) -> Iterator[str]:
    """Every ``s3://`` string anywhere in an API response."""
    if isinstance(value, str):
        if value.startswith("s3://"):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from s3_uris(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from s3_uris(item)


def overlaps(a: str, b: str) -> bool:
    """True when one URI is the other or lies under it (as an S3 prefix, by whole folders)."""
    a, b = a.rstrip("/"), b.rstrip("/")
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def job_outputs(kind: str, job: dict) -> list[str]:
    """The S3 locations a job wrote: only those, never its inputs (code, data sets)."""
    if kind == "ProcessingJob":
        outputs = (job.get("ProcessingOutputConfig") or {}).get("Outputs") or []
        return [o["S3Output"]["S3Uri"] for o in outputs if o.get("S3Output")]
    if kind == "TrainingJob":
        path = (job.get("OutputDataConfig") or {}).get("S3OutputPath")
        return [f"{path.rstrip('/')}/{job['TrainingJobName']}"] if path else []
    if kind == "TransformJob":
        path = (job.get("TransformOutput") or {}).get("S3OutputPath")
        return [path] if path else []
    return []


def job_references(kind: str, job: dict) -> set[str]:
    """The S3 locations a job reads or wrote: every URI but the parent folders of its outputs.

    A training job's ``S3OutputPath`` (and checkpoint, debugger, profiler paths) is the
    parent of every job's output there, not something this job needs.
    """
    needed = {k: v for k, v in job.items() if k not in _OUTPUT_ROOTS}
    return set(s3_uris(needed)) | set(job_outputs(kind, job))


class StateFolder:
    """The local target's state in ``home``, seen through its API."""

    def __init__(self, home: Optional[Path] = None, region: str = config.DEFAULT_REGION):
        import boto3

        import smlocal

        self.home = Path(home) if home else config.home()
        self._target = smlocal.local_target(home=self.home)
        with self._target:
            self.sagemaker = boto3.client("sagemaker", region_name=region)
            self.s3 = boto3.client("s3", region_name=region)

    def _call(self, client, method: str, **kwargs) -> dict:
        with self._target:
            return getattr(client, method)(**kwargs)

    # what there is
    def parts(self) -> dict[str, int]:
        """Bytes per top-level entry of the state folder (``s3``, ``executions``, ...)."""
        if not self.home.is_dir():
            return {}
        return {p.name: folder_size(p) for p in sorted(self.home.iterdir())}

    def executions(self, with_outputs: bool = True) -> list[Execution]:
        """Every execution of every pipeline, newest first."""
        found = []
        for pipeline in self._pipelines():
            page = self._call(
                self.sagemaker,
                "list_pipeline_executions",
                PipelineName=pipeline,
                SortOrder="Descending",
            )
            for summary in page.get("PipelineExecutionSummaries", []):
                arn = summary["PipelineExecutionArn"]
                folder = self.home / "executions" / arn.rsplit("/", 1)[-1]
                execution = Execution(
                    arn=arn,
                    pipeline=pipeline,
                    status=summary.get("PipelineExecutionStatus", ""),
                    started=summary.get("StartTime"),
                    folder=folder,
                    folder_bytes=folder_size(folder),
                )
                if with_outputs:
                    self._read_jobs(execution)
                found.append(execution)
        return sorted(found, key=lambda e: e.started or datetime.min, reverse=True)

    def _pipelines(self) -> list[str]:
        names, kwargs = [], {}
        while True:
            page = self._call(self.sagemaker, "list_pipelines", **kwargs)
            names += [p["PipelineName"] for p in page.get("PipelineSummaries", [])]
            if not page.get("NextToken"):
                return names
            kwargs["NextToken"] = page["NextToken"]

    def _read_jobs(self, execution: Execution) -> None:
        steps = self._call(
            self.sagemaker, "list_pipeline_execution_steps", PipelineExecutionArn=execution.arn
        ).get("PipelineExecutionSteps", [])
        for step in steps:
            for kind, entry in (step.get("Metadata") or {}).items():
                if kind not in _DESCRIBE or not isinstance(entry, dict) or "Arn" not in entry:
                    continue
                method, key = _DESCRIBE[kind]
                try:
                    described = self._call(
                        self.sagemaker, method, **{key: entry["Arn"].rsplit("/", 1)[-1]}
                    )
                except Exception:  # a record the API no longer has: nothing to follow
                    continue
                execution.references.update(job_references(kind, described))
                if not step.get("CacheHitResult"):  # a cache hit's outputs are another's
                    execution.outputs += job_outputs(kind, described)
        execution.output_bytes = sum(self.prefix_size(p) for p in execution.outputs)

    def orphan_folders(self, executions: list[Execution]) -> list[Path]:
        """Execution folders no execution record knows (e.g. of a deleted pipeline)."""
        known = {e.folder.name for e in executions}
        root = self.home / "executions"
        return (
            sorted(p for p in root.iterdir() if p.is_dir() and p.name not in known)
            if root.is_dir()
            else []
        )

    def registered_uris(self) -> set[str]:
        """S3 locations of registered model versions that are not Rejected (models, reports)."""
        uris: set[str] = set()
        groups = self._call(self.sagemaker, "list_model_package_groups").get(
            "ModelPackageGroupSummaryList", []
        )
        for group in groups:
            kwargs = {"ModelPackageGroupName": group["ModelPackageGroupName"]}
            while True:
                page = self._call(self.sagemaker, "list_model_packages", **kwargs)
                for summary in page.get("ModelPackageSummaryList", []):
                    if summary.get("ModelApprovalStatus") in PROTECTED_STATUSES:
                        package = self._call(
                            self.sagemaker,
                            "describe_model_package",
                            ModelPackageName=summary["ModelPackageArn"],
                        )
                        uris.update(s3_uris(package))
                if not page.get("NextToken"):
                    break
                kwargs["NextToken"] = page["NextToken"]
        return uris

    # objects
    def _objects(self, prefix: str) -> Iterator[dict]:
        bucket, _, key = prefix[len("s3://") :].partition("/")
        kwargs = {"Bucket": bucket, "Prefix": key}
        while True:
            try:
                page = self._call(self.s3, "list_objects_v2", **kwargs)
            except Exception:  # no such bucket: nothing there
                return
            for item in page.get("Contents", []):
                if item["Key"] == key or not key or item["Key"].startswith(key.rstrip("/") + "/"):
                    yield {"Bucket": bucket, **item}
            if not page.get("IsTruncated"):
                return
            kwargs["ContinuationToken"] = page["NextContinuationToken"]

    def prefix_size(self, prefix: str) -> int:
        return sum(item.get("Size", 0) for item in self._objects(prefix))

    def delete_prefix(self, prefix: str) -> int:
        """Delete the objects under ``prefix``; the number deleted."""
        items = list(self._objects(prefix))
        for start in range(0, len(items), 1000):
            batch = items[start : start + 1000]
            self._call(
                self.s3,
                "delete_objects",
                Bucket=batch[0]["Bucket"],
                Delete={"Objects": [{"Key": i["Key"]} for i in batch], "Quiet": True},
            )
        return len(items)

    # clean-up
    def plan(
        self,
        keep: Optional[int],
        pipeline: Optional[str] = None,
        caches: bool = False,
        include_registered: bool = False,
        environments: bool = False,
    ) -> Plan:
        """Keep the newest ``keep`` executions (of ``pipeline``, or of all); the rest go.

        Running executions are always kept; ``keep=None`` removes no execution. ``caches`` and
        ``environments`` remove those folders (to be made again when needed). What the kept
        executions refer to, and (unless ``include_registered``) what registered versions
        that are not Rejected refer to, is spared.
        """
        executions = self.executions()
        candidates = [e for e in executions if pipeline is None or e.pipeline == pipeline]
        old = [] if keep is None else [e for e in candidates[keep:] if e.status in FINAL]
        old_arns = {e.arn for e in old}
        kept = [e for e in executions if e.arn not in old_arns]
        protected = set().union(*(e.references for e in kept))
        if not include_registered:
            protected |= self.registered_uris()
        delete, spared = {}, {}
        for prefix in sorted({p for e in old for p in e.outputs}):
            size = self.prefix_size(prefix)
            if size:
                target = spared if any(overlaps(prefix, u) for u in protected) else delete
                target[prefix] = size
        remove = [e for e in old if e.folder.exists() or any(p in delete for p in e.outputs)]
        orphans = self.orphan_folders(executions) if keep is not None and pipeline is None else []
        names = (CACHES if caches else ()) + ((ENVIRONMENTS,) if environments else ())
        cache_folders = [self.home / n for n in names if (self.home / n).exists()]
        return Plan(remove, kept, orphans, delete, spared, cache_folders)

    def apply(self, plan: Plan) -> None:
        """Remove what ``plan`` says, folders first (they are most of the room)."""
        for execution in plan.remove:
            shutil.rmtree(execution.folder, ignore_errors=True)
        for folder in plan.orphans + plan.caches:
            shutil.rmtree(folder, ignore_errors=True)
        for prefix in plan.delete_prefixes:
            self.delete_prefix(prefix)
