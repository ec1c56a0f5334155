"""Processing jobs: the job's entry point runs as its container would run it.

Inputs are copied in before the entry point starts; outputs are uploaded when it ends well
(``S3UploadMode`` Continuous too: the objects are the same, only later). The entry point runs
from the container's root (``/``), in the image's Python environment; any command runs where
the container layout is made with namespaces (``FrameworkProcessor``'s ``runproc.sh``, shell
scripts), Python ones only with the path map (see ``containers.runtime``).
"""

from __future__ import annotations

from typing import Optional

from smlocal.containers import runtime
from smlocal.jobs.base import (
    JobContext,
    check_container_path,
    check_output_uri,
    check_request_shape,
    common_fields,
    host_path,
    refuse,
    shaped,
    strings,
)
from smlocal.jobs.records import JobRecord
from smlocal.models import ModelStore
from smlocal.jobs import process


class ProcessingJobKind:
    kind = "Processing"
    resource = "processing-job"

    def normalise(self, request: dict) -> dict:
        if "Environment" in request:
            request["Environment"] = strings(request["Environment"])
        return request

    def validate(self, request: dict, models: Optional[ModelStore] = None) -> None:
        """Refuse, by name, what would run differently here; ``request`` may hold expressions."""
        check_request_shape(request, "CreateProcessingJob")
        app = request.get("AppSpecification") or {}
        entry = app.get("ContainerEntrypoint")
        if not entry:
            refuse(
                "a processing job without ContainerEntrypoint runs the image's own program, "
                f"which the local target cannot run (image {app.get('ImageUri')})"
            )
        command = entry + list(app.get("ContainerArguments") or [])
        if all(isinstance(part, str) for part in command[:2]):
            try:
                why = runtime.unrunnable(command)
            except runtime.ContainerUnavailable as err:
                why = str(err)
            if why:
                refuse(why)
        count = ((request.get("ProcessingResources") or {}).get("ClusterConfig") or {}).get(
            "InstanceCount"
        )
        sharded = [
            item.get("InputName")
            for item in request.get("ProcessingInputs") or []
            if (item.get("S3Input") or {}).get("S3DataDistributionType") == "ShardedByS3Key"
        ]
        if isinstance(count, int) and count > 1 and sharded:
            # With every input replicated, each instance would run the same script on the same
            # data: one run stands for them. Sharded inputs would split the data: refused.
            refuse(
                f"InstanceCount {count} with inputs sharded by S3 key ({', '.join(map(str, sharded))}) "
                "is not supported locally (jobs run on one instance)"
            )
        for item in request.get("ProcessingInputs") or []:
            name = item.get("InputName")
            if item.get("AppManaged") is True:
                refuse(f"input {name!r}: AppManaged inputs are not supported locally")
            s3 = item.get("S3Input")
            if s3 is None:
                refuse(
                    f"input {name!r} is not an S3Input (dataset definitions are not supported locally)"
                )
            if s3.get("S3DataType", "S3Prefix") != "S3Prefix":
                refuse(f"S3DataType {s3['S3DataType']!r} is not supported locally")
            if s3.get("S3CompressionType", "None") != "None":
                refuse(f"S3CompressionType {s3['S3CompressionType']!r} is not supported locally")
            if s3.get("S3InputMode", "File") != "File":
                refuse(f"S3InputMode {s3['S3InputMode']!r} is not supported locally (File)")
            check_container_path(s3.get("LocalPath"), f"input {name!r} LocalPath")
        for item in (request.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
            if "S3Output" not in item:
                refuse(f"output {item.get('OutputName')!r} is not an S3Output")
            if item.get("AppManaged") is True:
                refuse(
                    f"output {item.get('OutputName')!r}: AppManaged outputs are not supported locally"
                )
            what = f"output {item.get('OutputName')!r}"
            check_container_path(item["S3Output"].get("LocalPath"), f"{what} LocalPath")
            check_output_uri(item["S3Output"].get("S3Uri"), f"{what} S3Uri")

    def run(self, ctx: JobContext) -> None:
        request = ctx.request
        container = ctx.work_dir / "container"
        for item in request.get("ProcessingInputs") or []:
            s3 = item["S3Input"]
            what = f"input {item.get('InputName')!r} LocalPath"
            ctx.sources.fetch(s3["S3Uri"], host_path(container, s3["LocalPath"], what))
        outputs = (request.get("ProcessingOutputConfig") or {}).get("Outputs") or []
        for item in outputs:
            local = self._output(container, item)
            local.mkdir(parents=True, exist_ok=True)

        app = request["AppSpecification"]
        command = [str(c) for c in app["ContainerEntrypoint"]] + [
            str(a) for a in app.get("ContainerArguments") or []
        ]
        env = {**ctx.env, **(request.get("Environment") or {})}
        spec = process.spec_for(ctx.work_dir, command, env, image=str(app.get("ImageUri") or ""))
        code = process.run_container(spec, ctx.logs, ctx.stop)
        if code != 0:
            raise process.failure(code, ctx.logs, "processing script")
        for item in outputs:  # checked again: the script may have put a link in its place
            ctx.store.upload_folder(self._output(container, item), item["S3Output"]["S3Uri"])
        ctx.result["ExitMessage"] = ""

    @staticmethod
    def _output(container, item: dict):
        what = f"output {item.get('OutputName')!r} LocalPath"
        return host_path(container, item["S3Output"]["LocalPath"], what)

    def describe(self, record: JobRecord) -> dict:
        return shaped(common_fields(record), operation="DescribeProcessingJob")

    def summary(self, record: JobRecord) -> dict:
        return shaped(common_fields(record), shape="ProcessingJobSummary")
