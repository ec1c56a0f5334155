"""Processing steps: the job's script runs as its container would, with /opt/ml remapped."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from pipelines.local.definition import StepSpec
from pipelines.local.errors import DefinitionError
from pipelines.local.steps import process
from pipelines.local.steps.base import StepContext, StepOutcome

CONTAINER_ROOT = "/opt/ml"
PYTHON_COMMANDS = ("python", "python3")


def _is_python(command: str) -> bool:
    name = os.path.basename(str(command))
    return name in PYTHON_COMMANDS or (name.startswith("python3.") and name[8:].isdigit())


class ProcessingExecutor:
    def validate(self, step: StepSpec) -> None:
        args = step.arguments
        app = args.get("AppSpecification") or {}
        entry = app.get("ContainerEntrypoint")
        if not entry:
            raise DefinitionError(
                f"step {step.name!r}: a processing job without ContainerEntrypoint runs the "
                f"image's own program, which the local target cannot run (image {app.get('ImageUri')})"
            )
        if isinstance(entry[0], str) and not _is_python(entry[0]):
            raise DefinitionError(
                f"step {step.name!r}: entry point {entry[0]!r} is not supported locally; "
                "the local target runs Python scripts (python3 <script>)"
            )
        for item in args.get("ProcessingInputs") or []:
            s3 = item.get("S3Input")
            if s3 is None:
                raise DefinitionError(
                    f"step {step.name!r}: input {item.get('InputName')!r} is not an S3Input "
                    "(dataset definitions are not supported locally)"
                )
            if s3.get("S3DataType", "S3Prefix") != "S3Prefix":
                raise DefinitionError(
                    f"step {step.name!r}: S3DataType {s3['S3DataType']!r} is not supported locally"
                )
            if s3.get("S3CompressionType", "None") != "None":
                raise DefinitionError(
                    f"step {step.name!r}: S3CompressionType {s3['S3CompressionType']!r} is not supported locally"
                )
            _check_container_path(step, s3.get("LocalPath"))
        for item in (args.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
            if "S3Output" not in item:
                raise DefinitionError(
                    f"step {step.name!r}: output {item.get('OutputName')!r} is not an S3Output"
                )
            _check_container_path(step, item["S3Output"].get("LocalPath"))

    def run(self, ctx: StepContext) -> StepOutcome:
        args = ctx.arguments
        started = datetime.now(timezone.utc)
        job_name = ctx.job_name()
        container = ctx.job_dir / "container"
        mapping = {CONTAINER_ROOT: str(container / CONTAINER_ROOT.lstrip("/"))}

        def local(path: str):
            return container / path.lstrip("/")

        for item in args.get("ProcessingInputs") or []:
            s3 = item["S3Input"]
            ctx.services.sources.fetch(s3["S3Uri"], local(s3["LocalPath"]))
        outputs = (args.get("ProcessingOutputConfig") or {}).get("Outputs") or []
        for item in outputs:
            local(item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)

        app = args["AppSpecification"]
        command = [str(c) for c in app["ContainerEntrypoint"]] + [
            str(a) for a in app.get("ContainerArguments") or []
        ]
        env = {k: str(v) for k, v in (args.get("Environment") or {}).items()}
        code = process.run_python(
            mapping, command[1:], ctx.job_dir / "logs", ctx.stop, env=env, cwd=container
        )
        if code != 0:
            raise process.failure(code, ctx.job_dir / "logs", "processing script")

        for item in outputs:
            ctx.store.upload_folder(local(item["S3Output"]["LocalPath"]), item["S3Output"]["S3Uri"])
        arn = ctx.arn("processing-job", job_name)
        properties = {
            **args,
            "ProcessingJobName": job_name,
            "ProcessingJobArn": arn,
            "ProcessingJobStatus": "Completed",
            "ExitMessage": "",
            "ProcessingStartTime": started.isoformat(),
            "ProcessingEndTime": datetime.now(timezone.utc).isoformat(),
        }
        return StepOutcome(properties, {"ProcessingJob": {"Arn": arn}})


def _check_container_path(step: StepSpec, path) -> None:
    if isinstance(path, str) and not (
        path == CONTAINER_ROOT or path.startswith(CONTAINER_ROOT + "/")
    ):
        raise DefinitionError(
            f"step {step.name!r}: local path {path!r} is outside {CONTAINER_ROOT}; "
            f"the local target maps only {CONTAINER_ROOT}"
        )
