"""Training jobs, each in a process of its own, as the training container would run them.

Three kinds of program: SageMaker's built-in XGBoost algorithm (emulated with the ``xgboost``
package), script mode (framework estimators with ``entry_point``/``source_dir``: the
submitted source is unpacked to ``/opt/ml/code`` and the entry point runs with the ``SM_*``
environment and the hyperparameters as command-line arguments), and a job's own
``ContainerEntrypoint``, which runs as it is from ``/``, as it replaces the image's program on
SageMaker: the SDK's remote-function jobs (``@step`` functions, see ``jobs.remote_function``)
and SDK 3.x's ``ModelTrainer`` (its ``sm_train.sh`` driver, from the ``sm_drivers`` channel).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from smlocal.artifacts import pack_model, unpack
from smlocal.containers import runtime
from smlocal.errors import ExecutionStopped, StepFailed
from smlocal.jobs import process, remote_function
from smlocal.jobs.base import (
    JobContext,
    check_container_path,
    check_output_uri,
    check_request_shape,
    child_path,
    common_fields,
    host_path,
    is_expression,
    refuse,
    refuse_present,
    shaped,
    strings,
)
from smlocal.shapes import name_problem
from smlocal.jobs.records import JobRecord
from smlocal.models import ModelStore

XGBOOST_IMAGE = re.compile(r"(^|/)sagemaker-xgboost[:@]")
ALGORITHM_MODULE = "smlocal.containers.xgboost_algorithm"
TOOLKIT_MODULE = "smlocal.containers.toolkit"  # requirements.txt, then the entry point
CODE_DIR = "/opt/ml/code"
IMAGE_ENV = "SMLOCAL_TRAINING_IMAGE"  # read by containers.xgboost_algorithm
HOST = "algo-1"
CHECKPOINTS = "/opt/ml/checkpoints"
DEFAULT_STOPPING = {"MaxRuntimeInSeconds": 86400}
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
# Options whose results (files in S3, registry entries, runs elsewhere) no local run leaves.
UNSUPPORTED = (
    "DebugRuleConfigurations",
    "TensorBoardOutputConfig",
    "MlflowConfig",
    "ModelPackageConfig",
    "ServerlessJobConfig",
)


def final_metrics(log: str, definitions: list[dict]) -> list[dict]:
    """FinalMetricDataList: the last value each MetricDefinitions regex captured in the log."""
    now = datetime.now(timezone.utc)
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


def is_script_mode(request: dict) -> bool:
    return "sagemaker_program" in (request.get("HyperParameters") or {})


def resource_config(request: dict) -> dict:
    """``/opt/ml/input/config/resourceconfig.json`` as SageMaker writes it for one instance."""
    instance_type = str((request.get("ResourceConfig") or {}).get("InstanceType") or "local")
    return {
        "current_host": HOST,
        "current_instance_type": instance_type,
        "current_group_name": "homogeneousCluster",
        "hosts": [HOST],
        "instance_groups": [
            {
                "instance_group_name": "homogeneousCluster",
                "instance_type": instance_type,
                "hosts": [HOST],
            }
        ],
        "network_interface_name": "eth0",
    }


def model_uri(request: dict, name: str) -> str:
    return f"{request['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{name}/output/model.tar.gz"


class TrainingJobKind:
    kind = "Training"
    resource = "training-job"

    def normalise(self, request: dict) -> dict:
        for key in ("HyperParameters", "Environment"):
            if key in request:
                request[key] = strings(request[key])
        return request

    def validate(self, request: dict, models: Optional[ModelStore] = None) -> None:
        """Refuse, by name, what would run differently here; ``request`` may hold expressions."""
        check_request_shape(request, "CreateTrainingJob")
        spec = request.get("AlgorithmSpecification") or {}
        image = spec.get("TrainingImage")
        if spec.get("AlgorithmName"):
            refuse(f"marketplace algorithm {spec['AlgorithmName']!r} cannot run locally")
        if remote_function.is_remote_function(spec):
            self._validate_remote_function(spec)
        elif spec.get("ContainerEntrypoint"):
            self._validate_entrypoint(spec)
        elif is_script_mode(request):
            if "sagemaker_submit_directory" not in request["HyperParameters"]:
                refuse("script mode needs sagemaker_submit_directory")
            program = decode_hyperparameters(request["HyperParameters"])["sagemaker_program"]
            if isinstance(program, str) and not program.endswith(".py"):
                try:
                    why = runtime.unrunnable(["/bin/sh", "-c", f"./{program}"])
                except runtime.ContainerUnavailable as err:
                    why = str(err)
                if why:
                    refuse(why)
        elif not isinstance(image, str) or not XGBOOST_IMAGE.search(image):
            refuse(
                f"training image {image!r} is not supported locally (the local target "
                "emulates the built-in XGBoost algorithm and runs script-mode entry points)"
            )
        if spec.get("TrainingInputMode", "File") != "File":
            refuse(f"TrainingInputMode {spec['TrainingInputMode']!r} is not supported locally")
        if not spec.get("ContainerEntrypoint"):  # arguments to the image's own program
            refuse_present(spec, ("ContainerArguments",), "the image's own program runs")
        for definition in spec.get("MetricDefinitions") or []:
            try:
                re.compile(definition.get("Regex", ""))
            except re.error as err:
                refuse(f"metric {definition.get('Name')!r}: bad regex: {err}")
        for channel in request.get("InputDataConfig") or []:
            self._validate_channel(channel)
        resources = request.get("ResourceConfig") or {}
        count = resources.get("InstanceCount")
        if isinstance(count, int) and count > 1:
            refuse(f"InstanceCount {count} is not supported locally (jobs run on one instance)")
        if isinstance(count, int) and count < 1:  # the model allows 0 for InstanceGroups only
            refuse(f"ResourceConfig.InstanceCount is {count}; it must be at least 1")
        refuse_present(resources, ("InstanceGroups",), "jobs run on one instance")
        compression = (request.get("OutputDataConfig") or {}).get("CompressionType", "GZIP")
        if compression != "GZIP":
            refuse(f"OutputDataConfig CompressionType {compression!r} is not supported locally")
        if (request.get("DebugHookConfig") or {}).get("CollectionConfigurations"):
            refuse(
                "DebugHookConfig CollectionConfigurations are not supported locally (no Debugger)"
            )
        refuse_present(request, UNSUPPORTED, "the local target does not produce what it asks for")
        checkpoints = request.get("CheckpointConfig") or {}
        check_container_path(checkpoints.get("LocalPath"), "CheckpointConfig LocalPath")
        check_output_uri(checkpoints.get("S3Uri"), "CheckpointConfig S3Uri")
        output = (request.get("OutputDataConfig") or {}).get("S3OutputPath")
        check_output_uri(output, "OutputDataConfig S3OutputPath")

    @staticmethod
    def _validate_remote_function(spec: dict) -> None:
        why = remote_function.unsupported_image(spec.get("TrainingImage"))
        if why:
            refuse(why)
        entry = [str(part) for part in spec["ContainerEntrypoint"]]
        try:
            why = runtime.unrunnable(entry)
        except runtime.ContainerUnavailable as err:
            why = str(err)
        if why:
            refuse(f"{remote_function.FEATURE}: {why}")

    @staticmethod
    def _validate_entrypoint(spec: dict) -> None:
        command = list(spec["ContainerEntrypoint"]) + list(spec.get("ContainerArguments") or [])
        if all(isinstance(part, str) for part in command[:2]):
            try:
                why = runtime.unrunnable(command)
            except runtime.ContainerUnavailable as err:
                why = str(err)
            if why:
                refuse(why)

    @staticmethod
    def _validate_channel(channel: dict) -> None:
        name = channel.get("ChannelName")
        if not is_expression(name):  # a channel's name is its folder's: SageMaker's pattern
            problem = name_problem(name, "Channel.ChannelName")
            if problem or name in (".", ".."):
                refuse(f"ChannelName {problem or repr(name) + ' cannot be a folder name'}")
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if source is None:
            refuse(f"channel {name!r} is not an S3 data source")
        if source.get("S3DataType", "S3Prefix") != "S3Prefix":
            refuse(f"S3DataType {source['S3DataType']!r} is not supported locally")
        refuse_present(source, ("AttributeNames", "InstanceGroupNames"), f"channel {name!r}")
        if channel.get("InputMode", "File") != "File":
            refuse(f"channel {name!r}: InputMode {channel['InputMode']!r} is not supported locally")
        if channel.get("CompressionType", "None") != "None":
            refuse(
                f"channel {name!r}: CompressionType {channel['CompressionType']!r} is not supported locally"
            )
        if channel.get("RecordWrapperType", "None") != "None":
            refuse(
                f"channel {name!r}: RecordWrapperType {channel['RecordWrapperType']!r} is not supported locally"
            )
        refuse_present(channel, ("ShuffleConfig",), f"channel {name!r}: Pipe mode only")

    def run(self, ctx: JobContext) -> None:
        request = ctx.request
        started = datetime.now(timezone.utc)
        spec = request.get("AlgorithmSpecification") or {}
        if remote_function.is_remote_function(spec):
            mismatch = remote_function.python_mismatch(
                str(spec.get("TrainingImage")), list(spec.get("ContainerArguments") or [])
            )
            if mismatch:  # what the SDK's bootstrap would report on SageMaker
                raise StepFailed(f"ClientError: {mismatch}")
        ml = ctx.ml
        config = ml / "input" / "config"
        config.mkdir(parents=True, exist_ok=True)
        raw_hps = request.get("HyperParameters") or {}
        ctx.progress("Downloading", "Downloading input data")
        channels = self._fetch_channels(ctx, ml)
        checkpoints = self._fetch_checkpoints(ctx)
        (config / "hyperparameters.json").write_text(json.dumps(raw_hps))
        (config / "inputdataconfig.json").write_text(json.dumps(channels))
        (config / "resourceconfig.json").write_text(json.dumps(resource_config(request)))
        for folder in ("model", "output/data"):
            (ml / folder).mkdir(parents=True, exist_ok=True)
        image = str(spec.get("TrainingImage") or "")
        if spec.get("ContainerEntrypoint"):  # the job's own program, in place of the image's
            command = [str(part) for part in spec["ContainerEntrypoint"]]
            command += [str(part) for part in spec.get("ContainerArguments") or []]
            env = {"TRAINING_JOB_NAME": ctx.name, "TRAINING_JOB_ARN": ctx.arn}
            # the container's user is the namespace's root, not the host's login name
            env.update({name: "" for name in ("USER", "LOGNAME", "LNAME", "USERNAME")})
            definitions = spec.get("MetricDefinitions") or []
            workdir = "/"
        elif is_script_mode(request):
            command, env = self._script(ctx, raw_hps, channels)
            definitions = spec.get("MetricDefinitions") or []
            workdir = CODE_DIR
        else:
            # the algorithm writes its model as the image's version does
            command, env = ["python3", "-m", ALGORITHM_MODULE], {IMAGE_ENV: image}
            definitions = spec.get("MetricDefinitions") or BUILTIN_METRIC_DEFINITIONS
            workdir = "/"
        env = {**ctx.env, **env, **(request.get("Environment") or {})}
        ctx.progress("Training", "Training image download completed. Training in progress.")
        container = process.spec_for(ctx.work_dir, command, env, image=image, workdir=workdir)
        try:
            code = process.run_container(container, ctx.logs, ctx.stop)
        except (
            ExecutionStopped
        ):  # what the job saved before it was stopped is kept, as on SageMaker
            self._upload(ctx, checkpoints)
            raise
        if code != 0:
            self._upload(ctx, checkpoints, model=False)
            failure = ml / "output" / "failure"
            if code > 0 and failure.is_file():
                raise StepFailed(f"ClientError: {failure.read_text()}")
            raise process.failure(code, ctx.logs, "training job")
        ctx.progress("Uploading", "Uploading generated training model")
        self._upload(ctx, checkpoints)
        log_text = "\n".join(
            (ctx.logs / name).read_text(errors="replace") for name in ("stdout.log", "stderr.log")
        )
        seconds = max(1, int((datetime.now(timezone.utc) - started).total_seconds()))
        ctx.result.update(
            FinalMetricDataList=final_metrics(log_text, definitions),
            TrainingTimeInSeconds=seconds,
            BillableTimeInSeconds=0,
        )

    @staticmethod
    def _upload(
        ctx: JobContext, checkpoints: Optional[tuple[Path, str]], model: bool = True
    ) -> None:
        """model.tar.gz and output.tar.gz where SageMaker puts them; checkpoints back to S3."""
        ml = ctx.ml
        if model:
            uri = model_uri(ctx.request, ctx.name)
            ctx.store.put_bytes(uri, pack_model(ml / "model"))
            if any((ml / "output" / "data").iterdir()):
                ctx.store.put_bytes(
                    uri.replace("/model.tar.gz", "/output.tar.gz"),
                    pack_model(ml / "output" / "data"),
                )
        if checkpoints is not None:
            folder, uri = checkpoints
            if folder.is_dir() and any(folder.iterdir()):
                ctx.store.upload_folder(folder, uri)

    @staticmethod
    def _fetch_checkpoints(ctx: JobContext) -> Optional[tuple[Path, str]]:
        """CheckpointConfig: earlier checkpoints in before the job starts (local folder, S3 URI)."""
        config = ctx.request.get("CheckpointConfig")
        if not config:
            return None
        folder = host_path(
            ctx.work_dir / "container",
            config.get("LocalPath") or CHECKPOINTS,
            "CheckpointConfig LocalPath",
        )
        folder.mkdir(parents=True, exist_ok=True)
        if ctx.store.exists(config["S3Uri"]):
            ctx.store.download_prefix(config["S3Uri"], folder)
        return folder, config["S3Uri"]

    @staticmethod
    def _fetch_channels(ctx: JobContext, ml: Path) -> dict:
        channels = {}
        for channel in ctx.request.get("InputDataConfig") or []:
            name = channel["ChannelName"]
            source = channel["DataSource"]["S3DataSource"]
            ctx.sources.fetch(source["S3Uri"], child_path(ml / "input" / "data", name, "channel"))
            channels[name] = {
                "ContentType": channel.get("ContentType", ""),
                "TrainingInputMode": "File",
                "S3DistributionType": source.get("S3DataDistributionType", "FullyReplicated"),
                "RecordWrapperType": channel.get("RecordWrapperType", "None"),
            }
        return channels

    @staticmethod
    def _script(ctx: JobContext, raw_hps: dict, channels: dict):
        """Unpack the submitted source; the entry point's command and SM_* environment."""
        ml = ctx.ml
        hps = decode_hyperparameters(raw_hps)
        program = str(hps["sagemaker_program"])
        submit = str(hps["sagemaker_submit_directory"])
        with tempfile.TemporaryDirectory(dir=ctx.work_dir) as scratch:
            ctx.sources.fetch(submit, Path(scratch))
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
            "SM_NUM_CPUS": str(os.cpu_count() or 1),
            "SM_LOG_LEVEL": str(hps.get("sagemaker_container_log_level", 20)),
            "SM_NETWORK_INTERFACE_NAME": "eth0",
            "SM_INPUT_DATA_CONFIG": json.dumps(channels),
            "SM_RESOURCE_CONFIG": json.dumps(resource_config(ctx.request)),
            "SM_TRAINING_ENV": json.dumps(
                {
                    "job_name": ctx.name,
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
        return ["python3", "-m", TOOLKIT_MODULE, program, *command_line(user)], env

    def describe(self, record: JobRecord) -> dict:
        request = record.request
        fields = {
            "StoppingCondition": DEFAULT_STOPPING,
            "EnableNetworkIsolation": False,
            "EnableInterContainerTrafficEncryption": False,
            "EnableManagedSpotTraining": False,
            **common_fields(record),
            "SecondaryStatus": record.secondary_status,
            "SecondaryStatusTransitions": record.transitions,
        }
        if "OutputDataConfig" in request:
            fields["ModelArtifacts"] = {"S3ModelArtifacts": model_uri(request, record.name)}
        fields["FinalMetricDataList"] = [
            {**m, "Timestamp": datetime.fromisoformat(m["Timestamp"])}
            for m in record.result.get("FinalMetricDataList") or []
        ]
        return shaped(fields, operation="DescribeTrainingJob")

    def summary(self, record: JobRecord) -> dict:
        return shaped(
            {**common_fields(record), "SecondaryStatus": record.secondary_status},
            shape="TrainingJobSummary",
        )
