"""Transform steps: batch inference over an S3 prefix with a model from a CreateModel step."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from pipelines.local.artifacts import unpack
from pipelines.local.containers.csv_filters import FilterError, compile_filter
from pipelines.local.definition import StepSpec
from pipelines.local.errors import DefinitionError, StepFailed
from pipelines.local.models import ModelNotFound
from pipelines.local.steps import process
from pipelines.local.steps.base import StepContext, StepOutcome

CONTAINER_MODULE = "pipelines.local.containers.transform"
XGBOOST_IMAGE = re.compile(r"(^|/)sagemaker-xgboost[:@]")


def _none(value) -> bool:
    return value in (None, "None")


class TransformExecutor:
    def validate(self, step: StepSpec) -> None:
        args = step.arguments
        name = step.name
        source = ((args.get("TransformInput") or {}).get("DataSource") or {}).get("S3DataSource")
        if source is None:
            raise DefinitionError(f"step {name!r}: TransformInput needs an S3DataSource")
        if source.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise DefinitionError(
                f"step {name!r}: S3DataType {source['S3DataType']!r} is not supported locally"
            )
        transform_input = args["TransformInput"]
        if (
            not _none(transform_input.get("SplitType"))
            and transform_input.get("SplitType") != "Line"
        ):
            raise DefinitionError(
                f"step {name!r}: SplitType {transform_input['SplitType']!r} is not supported locally (None, Line)"
            )
        if not _none(transform_input.get("CompressionType")):
            raise DefinitionError(
                f"step {name!r}: CompressionType {transform_input['CompressionType']!r} is not supported locally"
            )
        assemble = (args.get("TransformOutput") or {}).get("AssembleWith")
        if not _none(assemble) and assemble != "Line":
            raise DefinitionError(
                f"step {name!r}: AssembleWith {assemble!r} is not supported locally (None, Line)"
            )
        processing = args.get("DataProcessing") or {}
        for key in ("InputFilter", "OutputFilter"):
            expression = processing.get(key)
            if isinstance(expression, str):
                try:
                    compile_filter(expression)
                except FilterError as err:
                    raise DefinitionError(f"step {name!r}: {key}: {err}") from None
        if not _none(processing.get("JoinSource")) and processing.get("JoinSource") != "Input":
            raise DefinitionError(
                f"step {name!r}: JoinSource {processing['JoinSource']!r} is not supported"
            )
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
            raise DefinitionError(
                f"step {name!r}: DataProcessing filters and joins are supported locally "
                f"for text/csv only, not {content_type}"
            )

    def run(self, ctx: StepContext) -> StepOutcome:
        args = ctx.arguments
        started = datetime.now(timezone.utc)
        job_name = ctx.job_name()
        try:
            model = ctx.services.models.describe(args["ModelName"])
        except ModelNotFound as err:
            raise StepFailed(f"ClientError: {err}") from None
        container = model["PrimaryContainer"]
        env = {k: str(v) for k, v in (container.get("Environment") or {}).items()}
        program = env.get("SAGEMAKER_PROGRAM")
        if not program and not XGBOOST_IMAGE.search(container.get("Image", "")):
            raise StepFailed(
                f"ClientError: model {model['ModelName']}: image {container.get('Image')!r} is not supported "
                "locally (the built-in XGBoost algorithm, or a framework model with an inference script)"
            )
        ml = ctx.job_dir / "container" / "opt" / "ml"
        with tempfile.TemporaryDirectory(dir=ctx.job_dir) as scratch:
            if container.get("ModelDataUrl"):
                ctx.services.sources.fetch(container["ModelDataUrl"], Path(scratch) / "model")
                for archive in (Path(scratch) / "model").iterdir():
                    unpack(archive, ml / "model")
            if program:
                ctx.services.sources.fetch(
                    env["SAGEMAKER_SUBMIT_DIRECTORY"], Path(scratch) / "code"
                )
                for archive in (Path(scratch) / "code").iterdir():
                    unpack(archive, ml / "code")
        transform_input = args["TransformInput"]
        input_dir = ml / "transform" / "input"
        ctx.services.sources.fetch(
            transform_input["DataSource"]["S3DataSource"]["S3Uri"], input_dir
        )
        files = sorted(
            p.relative_to(input_dir).as_posix() for p in input_dir.rglob("*") if p.is_file()
        )
        output = args.get("TransformOutput") or {}
        processing = args.get("DataProcessing") or {}
        job = {
            "files": files,
            "content_type": transform_input.get("ContentType") or "text/csv",
            "split_type": transform_input.get("SplitType"),
            "accept": output.get("Accept") or "text/csv",
            "assemble_with": output.get("AssembleWith"),
            "batch_strategy": args.get("BatchStrategy"),
            "input_filter": processing.get("InputFilter"),
            "output_filter": processing.get("OutputFilter"),
            "join_source": processing.get("JoinSource"),
            "program": program,
        }
        (ml / "input" / "config").mkdir(parents=True, exist_ok=True)
        (ml / "input" / "config" / "transform.json").write_text(json.dumps(job))
        (ml / "transform" / "output").mkdir(parents=True, exist_ok=True)
        logs = ctx.job_dir / "logs"
        env.update({k: str(v) for k, v in (args.get("Environment") or {}).items()})
        code = process.run_python(
            {"/opt/ml": str(ml)}, ["-m", CONTAINER_MODULE], logs, ctx.stop, env=env, cwd=ctx.job_dir
        )
        if code != 0:
            failure = ml / "output" / "failure"
            if code > 0 and failure.is_file():
                raise StepFailed(f"ClientError: {failure.read_text()}")
            raise process.failure(code, logs, "transform job")
        ctx.store.upload_folder(ml / "transform" / "output", output["S3OutputPath"])
        arn = ctx.arn("transform-job", job_name)
        properties = {
            **args,
            "TransformJobName": job_name,
            "TransformJobArn": arn,
            "TransformJobStatus": "Completed",
            "TransformStartTime": started.isoformat(),
            "TransformEndTime": datetime.now(timezone.utc).isoformat(),
        }
        return StepOutcome(properties, {"TransformJob": {"Arn": arn}})
