"""Transform jobs: batch inference over an S3 prefix with a model made by CreateModel."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Optional

from smlocal.artifacts import unpack
from smlocal.containers.csv_filters import FilterError, compile_filter
from smlocal.errors import StepFailed
from smlocal.jobs import process
from smlocal.jobs.base import (
    JobContext,
    check_output_uri,
    check_request_shape,
    common_fields,
    refuse,
    refuse_present,
    shaped,
    strings,
)
from smlocal.jobs.records import JobRecord
from smlocal.models import ModelNotFound, ModelStore

CONTAINER_MODULE = "smlocal.containers.transform"
XGBOOST_IMAGE = re.compile(r"(^|/)sagemaker-xgboost[:@]")


def _none(value) -> bool:
    return value in (None, "None")


class TransformJobKind:
    kind = "Transform"
    resource = "transform-job"

    def normalise(self, request: dict) -> dict:
        if "Environment" in request:
            request["Environment"] = strings(request["Environment"])
        return request

    def validate(self, request: dict, models: Optional[ModelStore] = None) -> None:
        """Refuse, by name, what would run differently here; ``request`` may hold expressions.

        With ``models``, the model is looked up too (CreateTransformJob does that at once).
        """
        check_request_shape(request, "CreateTransformJob")
        check_output_uri(
            (request.get("TransformOutput") or {}).get("S3OutputPath"),
            "TransformOutput S3OutputPath",
        )
        source = ((request.get("TransformInput") or {}).get("DataSource") or {}).get("S3DataSource")
        if source is None:
            refuse("TransformInput needs an S3DataSource")
        if source.get("S3DataType", "S3Prefix") != "S3Prefix":
            refuse(f"S3DataType {source['S3DataType']!r} is not supported locally")
        transform_input = request["TransformInput"]
        split = transform_input.get("SplitType")
        if not _none(split) and split != "Line":
            refuse(f"SplitType {split!r} is not supported locally (None, Line)")
        if not _none(transform_input.get("CompressionType")):
            refuse(
                f"CompressionType {transform_input['CompressionType']!r} is not supported locally"
            )
        assemble = (request.get("TransformOutput") or {}).get("AssembleWith")
        if not _none(assemble) and assemble != "Line":
            refuse(f"AssembleWith {assemble!r} is not supported locally (None, Line)")
        refuse_present(request, ("DataCaptureConfig",), "no data capture")
        processing = request.get("DataProcessing") or {}
        for key in ("InputFilter", "OutputFilter"):
            expression = processing.get(key)
            if isinstance(expression, str):
                try:
                    compile_filter(expression)
                except FilterError as err:
                    refuse(f"{key}: {err}")
        if not _none(processing.get("JoinSource")) and processing.get("JoinSource") != "Input":
            refuse(f"JoinSource {processing['JoinSource']!r} is not supported")
        content_type = transform_input.get("ContentType")
        uses_processing = any(
            processing.get(k) not in (None, "None", "$")
            for k in ("InputFilter", "OutputFilter", "JoinSource")
        )
        if (
            uses_processing
            and isinstance(content_type, str)
            and content_type.split(";")[0] != "text/csv"
        ):
            refuse(
                "DataProcessing filters and joins are supported locally "
                f"for text/csv only, not {content_type}"
            )
        if models is not None:
            self.model(request, models)

    @staticmethod
    def model(request: dict, models: ModelStore) -> dict:
        """The job's model, refused when missing or of an image the local target cannot serve."""
        try:
            model = models.describe(request["ModelName"])
        except ModelNotFound as err:
            refuse(str(err))
        container = model["PrimaryContainer"]
        environment = container.get("Environment") or {}
        if not environment.get("SAGEMAKER_PROGRAM") and not XGBOOST_IMAGE.search(
            container.get("Image", "")
        ):
            refuse(
                f"model {model['ModelName']}: image {container.get('Image')!r} is not supported "
                "locally (the built-in XGBoost algorithm, or a framework model with an inference script)"
            )
        return model

    def run(self, ctx: JobContext) -> None:
        request = ctx.request
        try:
            model = ctx.models.describe(request["ModelName"])
        except ModelNotFound as err:  # deleted since the job was created
            raise StepFailed(f"ClientError: {err}") from None
        container = model["PrimaryContainer"]
        env = {k: str(v) for k, v in (container.get("Environment") or {}).items()}
        program = env.get("SAGEMAKER_PROGRAM")
        ml = ctx.ml
        with tempfile.TemporaryDirectory(dir=ctx.work_dir) as scratch:
            if container.get("ModelDataUrl"):
                ctx.sources.fetch(container["ModelDataUrl"], Path(scratch) / "model")
                for archive in (Path(scratch) / "model").iterdir():
                    unpack(archive, ml / "model")
            if program:
                ctx.sources.fetch(env["SAGEMAKER_SUBMIT_DIRECTORY"], Path(scratch) / "code")
                for archive in (Path(scratch) / "code").iterdir():
                    unpack(archive, ml / "code")
        transform_input = request["TransformInput"]
        input_dir = ml / "transform" / "input"
        ctx.sources.fetch(transform_input["DataSource"]["S3DataSource"]["S3Uri"], input_dir)
        files = sorted(
            p.relative_to(input_dir).as_posix() for p in input_dir.rglob("*") if p.is_file()
        )
        output = request.get("TransformOutput") or {}
        processing = request.get("DataProcessing") or {}
        job = {
            "files": files,
            "content_type": transform_input.get("ContentType") or "text/csv",
            "split_type": transform_input.get("SplitType"),
            "accept": output.get("Accept") or "text/csv",
            "assemble_with": output.get("AssembleWith"),
            "batch_strategy": request.get("BatchStrategy"),
            "input_filter": processing.get("InputFilter"),
            "output_filter": processing.get("OutputFilter"),
            "join_source": processing.get("JoinSource"),
            "program": program,
        }
        (ml / "input" / "config").mkdir(parents=True, exist_ok=True)
        (ml / "input" / "config" / "transform.json").write_text(json.dumps(job))
        (ml / "transform" / "output").mkdir(parents=True, exist_ok=True)
        env = {**ctx.env, **env, **(request.get("Environment") or {})}
        command = ["python3", "-m", CONTAINER_MODULE]
        spec = process.spec_for(ctx.work_dir, command, env, image=str(container.get("Image") or ""))
        code = process.run_container(spec, ctx.logs, ctx.stop)
        if code != 0:
            failure = ml / "output" / "failure"
            if code > 0 and failure.is_file():
                raise StepFailed(f"ClientError: {failure.read_text()}")
            raise process.failure(code, ctx.logs, "transform job")
        ctx.store.upload_folder(ml / "transform" / "output", output["S3OutputPath"])

    def describe(self, record: JobRecord) -> dict:
        return shaped(common_fields(record), operation="DescribeTransformJob")

    def summary(self, record: JobRecord) -> dict:
        return shaped(common_fields(record), shape="TransformJobSummary")
