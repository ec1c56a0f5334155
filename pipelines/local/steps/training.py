"""Training steps, each in a process of its own, as the training container would run them.

Two kinds: SageMaker's built-in XGBoost algorithm (emulated with the ``xgboost`` package),
and script mode (framework estimators with ``entry_point``/``source_dir``: the submitted
source is unpacked to ``/opt/ml/code`` and the entry point runs with the ``SM_*`` environment
and the hyperparameters as command-line arguments).
"""

from __future__ import annotations

import json
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from pipelines.local.artifacts import pack_model, unpack
from pipelines.local.definition import StepSpec
from pipelines.local.errors import DefinitionError, StepFailed
from pipelines.local.steps import process
from pipelines.local.steps.base import StepContext, StepOutcome

XGBOOST_IMAGE = re.compile(r"(^|/)sagemaker-xgboost[:@]")
ALGORITHM_MODULE = "pipelines.local.containers.xgboost_algorithm"
HOST = "algo-1"
# The built-in algorithm's metrics as CloudWatch shows them: "[12]#011validation-rmse:2.1".
BUILTIN_METRIC_DEFINITIONS = [
    {
        "Name": f"{channel}:{metric}",
        "Regex": rf".*\[[0-9]+\].*#011{channel}-{metric}:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*",
    }
    for channel in ("train", "validation")
    for metric in (
        "rmse",
        "mae",
        "logloss",
        "error",
        "auc",
        "merror",
        "mlogloss",
        "aucpr",
        "map",
        "ndcg",
        "mape",
    )
]
SCRIPT_MODE_KEYS = ("sagemaker_program", "sagemaker_submit_directory")


def final_metrics(log: str, definitions: list[dict]) -> list[dict]:
    """FinalMetricDataList: the last value each MetricDefinitions regex captured in the log."""
    now = datetime.now(timezone.utc).isoformat()
    found = []
    for definition in definitions:
        values = re.findall(definition["Regex"], log, flags=re.MULTILINE)
        if values:
            value = values[-1][0] if isinstance(values[-1], tuple) else values[-1]
            try:
                found.append(
                    {"MetricName": definition["Name"], "Value": float(value), "Timestamp": now}
                )
            except ValueError:
                continue
    return found


def decode_hyperparameters(raw: dict) -> dict:
    """Framework estimators send each value JSON-encoded; undo that where it was done."""
    decoded = {}
    for key, value in raw.items():
        try:
            decoded[key] = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            decoded[key] = value
    return decoded


def command_line(hyperparameters: dict) -> list[str]:
    """The user's hyperparameters as the training toolkit passes them: ``--name value``."""
    args = []
    for key in sorted(hyperparameters):
        value = hyperparameters[key]
        args += [f"--{key}", json.dumps(value) if isinstance(value, (dict, list)) else str(value)]
    return args


def is_script_mode(arguments: dict) -> bool:
    return "sagemaker_program" in (arguments.get("HyperParameters") or {})


class TrainingExecutor:
    def validate(self, step: StepSpec) -> None:
        args = step.arguments
        spec = args.get("AlgorithmSpecification") or {}
        image = spec.get("TrainingImage")
        if spec.get("AlgorithmName"):
            raise DefinitionError(
                f"step {step.name!r}: marketplace algorithm {spec['AlgorithmName']!r} cannot run locally"
            )
        if is_script_mode(args):
            if "sagemaker_submit_directory" not in args["HyperParameters"]:
                raise DefinitionError(
                    f"step {step.name!r}: script mode needs sagemaker_submit_directory"
                )
        elif not isinstance(image, str) or not XGBOOST_IMAGE.search(image):
            raise DefinitionError(
                f"step {step.name!r}: training image {image!r} is not supported locally (the local target "
                "emulates the built-in XGBoost algorithm and runs script-mode entry points)"
            )
        if spec.get("TrainingInputMode", "File") != "File":
            raise DefinitionError(
                f"step {step.name!r}: TrainingInputMode {spec['TrainingInputMode']!r} is not supported locally"
            )
        for definition in spec.get("MetricDefinitions") or []:
            try:
                re.compile(definition.get("Regex", ""))
            except re.error as err:
                raise DefinitionError(
                    f"step {step.name!r}: metric {definition.get('Name')!r}: bad regex: {err}"
                ) from None
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
        raw_hps = {k: str(v) for k, v in (args.get("HyperParameters") or {}).items()}
        channels = self._fetch_channels(ctx, ml)
        (config / "hyperparameters.json").write_text(json.dumps(raw_hps))
        (config / "inputdataconfig.json").write_text(json.dumps(channels))
        (config / "resourceconfig.json").write_text(
            json.dumps({"current_host": HOST, "hosts": [HOST]})
        )
        for folder in ("model", "output/data"):
            (ml / folder).mkdir(parents=True, exist_ok=True)
        logs = ctx.job_dir / "logs"
        spec = args.get("AlgorithmSpecification") or {}
        if is_script_mode(args):
            target, env = self._script(ctx, ml, raw_hps, channels, job_name)
            definitions = spec.get("MetricDefinitions") or []
        else:
            target, env = ["-m", ALGORITHM_MODULE], {}
            definitions = spec.get("MetricDefinitions") or BUILTIN_METRIC_DEFINITIONS
        env.update({k: str(v) for k, v in (args.get("Environment") or {}).items()})
        code = process.run_python(
            {"/opt/ml": str(ml)}, target, logs, ctx.stop, env=env, cwd=ctx.job_dir
        )
        if code != 0:
            failure = ml / "output" / "failure"
            if code > 0 and failure.is_file():
                raise StepFailed(f"ClientError: {failure.read_text()}")
            raise process.failure(code, logs, "training job")

        output_path = args["OutputDataConfig"]["S3OutputPath"].rstrip("/")
        model_uri = f"{output_path}/{job_name}/output/model.tar.gz"
        ctx.store.put_bytes(model_uri, pack_model(ml / "model"))
        if any((ml / "output" / "data").iterdir()):
            ctx.store.put_bytes(
                f"{output_path}/{job_name}/output/output.tar.gz", pack_model(ml / "output" / "data")
            )
        log_text = (
            (logs / "stdout.log").read_text(errors="replace")
            + "\n"
            + (logs / "stderr.log").read_text(errors="replace")
        )
        ended = datetime.now(timezone.utc)
        arn = ctx.arn("training-job", job_name)
        properties = {
            **args,
            "HyperParameters": raw_hps,
            "TrainingJobName": job_name,
            "TrainingJobArn": arn,
            "ModelArtifacts": {"S3ModelArtifacts": model_uri},
            "TrainingJobStatus": "Completed",
            "SecondaryStatus": "Completed",
            "FinalMetricDataList": final_metrics(log_text, definitions),
            "TrainingStartTime": started.isoformat(),
            "TrainingEndTime": ended.isoformat(),
            "TrainingTimeInSeconds": max(1, int((ended - started).total_seconds())),
            "BillableTimeInSeconds": 0,
        }
        return StepOutcome(properties, {"TrainingJob": {"Arn": arn}})

    @staticmethod
    def _fetch_channels(ctx: StepContext, ml: Path) -> dict:
        channels = {}
        for channel in ctx.arguments.get("InputDataConfig") or []:
            name = channel["ChannelName"]
            source = channel["DataSource"]["S3DataSource"]
            ctx.services.sources.fetch(source["S3Uri"], ml / "input" / "data" / name)
            channels[name] = {
                "ContentType": channel.get("ContentType", ""),
                "TrainingInputMode": "File",
                "S3DistributionType": source.get("S3DataDistributionType", "FullyReplicated"),
                "RecordWrapperType": channel.get("RecordWrapperType", "None"),
            }
        return channels

    @staticmethod
    def _script(ctx: StepContext, ml: Path, raw_hps: dict, channels: dict, job_name: str):
        """Unpack the submitted source; the entry point's command and SM_* environment."""
        hps = decode_hyperparameters(raw_hps)
        program = str(hps["sagemaker_program"])
        submit = str(hps["sagemaker_submit_directory"])
        with tempfile.TemporaryDirectory(dir=ctx.job_dir) as scratch:
            ctx.services.sources.fetch(submit, Path(scratch))
            for archive in Path(scratch).iterdir():
                unpack(archive, ml / "code")
        if not (ml / "code" / program).is_file():
            raise StepFailed(f"ClientError: the entry point {program!r} is not in {submit}")
        user = {k: v for k, v in hps.items() if not k.startswith("sagemaker_")}
        env = {
            "SM_MODEL_DIR": "/opt/ml/model",
            "SM_OUTPUT_DIR": "/opt/ml/output",
            "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
            "SM_INPUT_DIR": "/opt/ml/input",
            "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config",
            "SM_CHANNELS": json.dumps(sorted(channels)),
            "SM_HPS": json.dumps(user),
            "SM_USER_ARGS": json.dumps(command_line(user)),
            "SM_USER_ENTRY_POINT": program,
            "SM_MODULE_NAME": Path(program).stem,
            "SM_MODULE_DIR": submit,
            "SM_HOSTS": json.dumps([HOST]),
            "SM_CURRENT_HOST": HOST,
            "SM_NUM_GPUS": "0",
            "SM_NUM_CPUS": str(__import__("os").cpu_count() or 1),
            "SM_LOG_LEVEL": str(hps.get("sagemaker_container_log_level", 20)),
            "SM_NETWORK_INTERFACE_NAME": "eth0",
            "SM_INPUT_DATA_CONFIG": json.dumps(channels),
            "SM_RESOURCE_CONFIG": json.dumps({"current_host": HOST, "hosts": [HOST]}),
            "SM_TRAINING_ENV": json.dumps(
                {
                    "job_name": job_name,
                    "hyperparameters": user,
                    "channel_input_dirs": {c: f"/opt/ml/input/data/{c}" for c in channels},
                    "model_dir": "/opt/ml/model",
                    "output_data_dir": "/opt/ml/output/data",
                    "current_host": HOST,
                    "hosts": [HOST],
                    "user_entry_point": program,
                    "num_gpus": 0,
                }
            ),
        }
        for name in channels:
            env[f"SM_CHANNEL_{name.upper()}"] = f"/opt/ml/input/data/{name}"
        for key, value in user.items():
            env[f"SM_HP_{key.upper()}"] = (
                json.dumps(value) if isinstance(value, (dict, list)) else str(value)
            )
        return [f"/opt/ml/code/{program}", *command_line(user)], env
