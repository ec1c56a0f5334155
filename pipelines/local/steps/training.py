"""Training steps: the built-in XGBoost algorithm, emulated, in a process of its own."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from pipelines.local.artifacts import pack_model
from pipelines.local.definition import StepSpec
from pipelines.local.errors import DefinitionError, StepFailed
from pipelines.local.steps import process
from pipelines.local.steps.base import StepContext, StepOutcome

XGBOOST_IMAGE = re.compile(r"(^|/)sagemaker-xgboost[:@]")
ALGORITHM_MODULE = "pipelines.local.containers.xgboost_algorithm"
# The built-in algorithm's metrics as CloudWatch shows them: "[12]#011validation-rmse:2.1".
BUILTIN_METRIC = re.compile(
    r"#011(train|validation)-([A-Za-z0-9@_-]+):([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
)


def final_metrics(log: str) -> list[dict]:
    """FinalMetricDataList: the last value of each metric in the log."""
    last: dict[str, float] = {}
    for channel, metric, value in BUILTIN_METRIC.findall(log):
        last[f"{channel}:{metric}"] = float(value)
    now = datetime.now(timezone.utc).isoformat()
    return [{"MetricName": k, "Value": v, "Timestamp": now} for k, v in sorted(last.items())]


class TrainingExecutor:
    def validate(self, step: StepSpec) -> None:
        args = step.arguments
        spec = args.get("AlgorithmSpecification") or {}
        image = spec.get("TrainingImage")
        hps = args.get("HyperParameters") or {}
        if "sagemaker_program" in hps:
            raise DefinitionError(
                f"step {step.name!r}: script-mode training (sagemaker_program) is not supported "
                "by the local target yet"
            )
        if spec.get("AlgorithmName"):
            raise DefinitionError(
                f"step {step.name!r}: marketplace algorithm {spec['AlgorithmName']!r} cannot run locally"
            )
        if not isinstance(image, str) or not XGBOOST_IMAGE.search(image):
            raise DefinitionError(
                f"step {step.name!r}: training image {image!r} is not supported locally "
                "(the local target emulates the built-in XGBoost algorithm)"
            )
        if spec.get("TrainingInputMode", "File") != "File":
            raise DefinitionError(
                f"step {step.name!r}: TrainingInputMode {spec['TrainingInputMode']!r} is not supported locally"
            )
        for channel in args.get("InputDataConfig") or []:
            source = (channel.get("DataSource") or {}).get("S3DataSource")
            if source is None:
                raise DefinitionError(
                    f"step {step.name!r}: channel {channel.get('ChannelName')!r} is not an S3 data source"
                )
            if source.get("S3DataType", "S3Prefix") != "S3Prefix":
                raise DefinitionError(
                    f"step {step.name!r}: S3DataType {source['S3DataType']!r} is not supported locally"
                )

    def run(self, ctx: StepContext) -> StepOutcome:
        args = ctx.arguments
        started = datetime.now(timezone.utc)
        job_name = ctx.job_name()
        ml = ctx.job_dir / "container" / "opt" / "ml"
        config = ml / "input" / "config"
        config.mkdir(parents=True, exist_ok=True)
        hyperparameters = {k: str(v) for k, v in (args.get("HyperParameters") or {}).items()}
        channels = {}
        for channel in args.get("InputDataConfig") or []:
            name = channel["ChannelName"]
            ctx.services.sources.fetch(
                channel["DataSource"]["S3DataSource"]["S3Uri"], ml / "input" / "data" / name
            )
            channels[name] = {
                "ContentType": channel.get("ContentType", ""),
                "TrainingInputMode": "File",
                "S3DistributionType": channel["DataSource"]["S3DataSource"].get(
                    "S3DataDistributionType", "FullyReplicated"
                ),
                "RecordWrapperType": channel.get("RecordWrapperType", "None"),
            }
        (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
        (config / "inputdataconfig.json").write_text(json.dumps(channels))
        (config / "resourceconfig.json").write_text(
            json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]})
        )
        (ml / "model").mkdir(parents=True, exist_ok=True)

        logs = ctx.job_dir / "logs"
        code = process.run_python(
            {"/opt/ml": str(ml)}, ["-m", ALGORITHM_MODULE], logs, ctx.stop, cwd=ctx.job_dir
        )
        if code != 0:
            failure = ml / "output" / "failure"
            if code > 0 and failure.is_file():
                raise StepFailed(f"ClientError: {failure.read_text()}")
            raise process.failure(code, logs, "training job")

        output_path = args["OutputDataConfig"]["S3OutputPath"].rstrip("/")
        model_uri = f"{output_path}/{job_name}/output/model.tar.gz"
        ctx.store.put_bytes(model_uri, pack_model(ml / "model"))
        ended = datetime.now(timezone.utc)
        arn = ctx.arn("training-job", job_name)
        properties = {
            **args,
            "HyperParameters": hyperparameters,
            "TrainingJobName": job_name,
            "TrainingJobArn": arn,
            "ModelArtifacts": {"S3ModelArtifacts": model_uri},
            "TrainingJobStatus": "Completed",
            "SecondaryStatus": "Completed",
            "FinalMetricDataList": final_metrics((logs / "stdout.log").read_text(errors="replace")),
            "TrainingStartTime": started.isoformat(),
            "TrainingEndTime": ended.isoformat(),
            "TrainingTimeInSeconds": max(1, int((ended - started).total_seconds())),
            "BillableTimeInSeconds": 0,
        }
        return StepOutcome(properties, {"TrainingJob": {"Arn": arn}})
