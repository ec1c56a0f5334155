"""SageMaker's built-in XGBoost algorithm, emulated with the ``xgboost`` package.

Runs as the training job's container process and reads and writes what the algorithm
container does: hyperparameters and channels from ``/opt/ml/input``, the booster to
``/opt/ml/model/xgboost-model`` in the format of the image's version, a failure message to
``/opt/ml/output/failure``, and per-round metrics in the log lines CloudWatch shows
(``[i]#011train-rmse:...``). Hyperparameters are checked as the image's version checks them
(see ``xgboost_versions``).
"""

from __future__ import annotations

import glob
import json
import os
import pickle
import sys

import numpy as np
import pandas as pd
import xgboost

from smlocal.containers.xgboost_versions import NEWEST, VERSIONS, ImageVersion, version_of

INPUT = "/opt/ml/input"
MODEL_FILE = "/opt/ml/model/xgboost-model"
FAILURE_FILE = "/opt/ml/output/failure"
# The job runner names the image here, as the image itself knows its own version.
IMAGE_ENV = "SMLOCAL_TRAINING_IMAGE"

OBJECTIVE_ALIASES = {"reg:linear": "reg:squarederror"}  # xgboost 2 dropped the old name
# Read by the container itself (not booster parameters).
CONTAINER_ONLY = {
    "num_round",
    "early_stopping_rounds",
    "csv_weights",
    "silent",
    "save_model_on_termination",
    "_tuning_objective_metric",
    "use_dask_gpu_training",
}
# Known to the container, not emulated: refused by name rather than ignored.
NOT_EMULATED = {
    "_kfold": "cross-validation training (_kfold)",
    "_nfold": "cross-validation training (_nfold)",
    "_num_cv_round": "cross-validation training (_num_cv_round)",
}
SUPPORTED_CONTENT_TYPES = ("text/csv", "csv", "text/csv; label_size=1")


class AlgorithmError(Exception):
    """A problem the container reports as ClientError/AlgorithmError."""


def _number(value: str):
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            continue
    return value


def booster_params(
    hyperparameters: dict, version: ImageVersion = VERSIONS[NEWEST]
) -> tuple[dict, int, int | None]:
    """(xgboost params, num_round, early_stopping_rounds) from the job's string hyperparameters.

    As the image version validates them: aliases replaced, names it does not know refused.
    """
    given = {
        version.canonical(key): value
        for key, value in hyperparameters.items()
        if not key.startswith("sagemaker_")  # the toolkit's own, not the algorithm's
    }
    for key in sorted(given):
        if key not in version.hyperparameters:
            raise AlgorithmError(f"Extraneous hyperparameter found: {key}")
        if key in NOT_EMULATED:
            raise AlgorithmError(f"{NOT_EMULATED[key]} is not supported locally")
    if str(given.get("use_dask_gpu_training", "false")).lower() == "true":
        raise AlgorithmError("use_dask_gpu_training is not supported locally (no GPUs)")
    if "num_round" not in given:
        raise AlgorithmError("Missing required hyperparameter: num_round")
    try:
        num_round = int(given["num_round"])
    except ValueError:
        raise AlgorithmError(f"num_round must be an integer, got {given['num_round']!r}") from None
    early = given.get("early_stopping_rounds")
    params = {key: _number(str(value)) for key, value in given.items() if key not in CONTAINER_ONLY}
    if "objective" in params:
        params["objective"] = OBJECTIVE_ALIASES.get(params["objective"], params["objective"])
    if "eval_metric" in params:  # a comma-separated list, as the container parses it
        params["eval_metric"] = [m.strip() for m in str(params["eval_metric"]).split(",")]
    if str(given.get("silent", "0")) == "1":
        params.setdefault("verbosity", 0)
    return params, num_round, int(early) if early else None


def read_channel(name: str, content_type: str, csv_weights: bool) -> xgboost.DMatrix:
    """A CSV channel: label in the first column, no header (optionally weights second)."""
    if content_type.split(";")[0].strip().lower() not in ("text/csv", "csv"):
        raise AlgorithmError(
            f"channel {name!r}: content type {content_type!r} is not supported locally (text/csv is)"
        )
    files = sorted(
        f for f in glob.glob(f"{INPUT}/data/{name}/**/*", recursive=True) if os.path.isfile(f)
    )
    if not files:
        raise AlgorithmError(f"channel {name!r} has no data files")
    frames = [pd.read_csv(f, header=None) for f in files]
    data = pd.concat(frames, ignore_index=True).to_numpy(dtype=np.float64)
    if data.shape[1] < 2:
        raise AlgorithmError(f"channel {name!r}: a CSV needs the label and at least one feature")
    label = data[:, 0]
    if csv_weights:
        return xgboost.DMatrix(data[:, 2:], label=label, weight=data[:, 1])
    return xgboost.DMatrix(data[:, 1:], label=label)


def fit(
    hyperparameters: dict,
    train: xgboost.DMatrix,
    validation: xgboost.DMatrix | None = None,
    version: ImageVersion = VERSIONS[NEWEST],
) -> tuple[xgboost.Booster, dict]:
    """Train as the container does: (booster, per-round metrics of each data set)."""
    params, num_round, early = booster_params(hyperparameters, version)
    evals = [(train, "train")] + ([(validation, "validation")] if validation is not None else [])
    history: dict = {}
    try:
        booster = xgboost.train(
            params,
            train,
            num_boost_round=num_round,
            evals=evals,
            evals_result=history,
            early_stopping_rounds=early if validation is not None else None,
            verbose_eval=False,
        )
    except xgboost.core.XGBoostError as err:
        raise AlgorithmError(str(err).splitlines()[0]) from None
    return booster, history


def train() -> None:
    with open(f"{INPUT}/config/hyperparameters.json") as f:
        hyperparameters = json.load(f)
    with open(f"{INPUT}/config/inputdataconfig.json") as f:
        channels = json.load(f)
    if "train" not in channels:
        raise AlgorithmError("the built-in XGBoost algorithm needs a 'train' channel")
    version = version_of(os.environ.get(IMAGE_ENV, ""))
    booster_params(hyperparameters, version)  # refuse before reading any data
    csv_weights = str(hyperparameters.get("csv_weights", "0")) == "1"
    data = {}
    for name in ("train", "validation"):
        if name in channels:
            content_type = channels[name].get("ContentType") or "text/csv"
            data[name] = read_channel(name, content_type, csv_weights)
    booster, history = fit(hyperparameters, data["train"], data.get("validation"), version)
    rounds = len(next(iter(next(iter(history.values())).values()))) if history else 0
    for i in range(rounds):
        fields = [
            f"{channel}-{metric}:{values[i]:.5f}"
            for channel, metrics in history.items()
            for metric, values in metrics.items()
        ]
        print(f"[{i}]#011" + "#011".join(fields), flush=True)
    os.makedirs(os.path.dirname(MODEL_FILE), exist_ok=True)
    # Written through Python (not booster.save_model) so that the path map sees it too.
    with open(MODEL_FILE, "wb") as f:
        f.write(model_bytes(booster, version))


def model_bytes(booster: xgboost.Booster, version: ImageVersion) -> bytes:
    """The model file as the image writes it: a pickled Booster before 1.3-1, else its own format.

    From 1.3-1 the container calls ``booster.save_model("xgboost-model")``: UBJSON with the
    3.0 image's XGBoost, as here; the 1.x images' XGBoost wrote its legacy binary format, which
    this XGBoost no longer writes (both load with ``Booster.load_model``).
    """
    if version.pickled_model:
        return pickle.dumps(booster, protocol=version.pickle_protocol)
    return bytes(booster.save_raw(raw_format="ubj"))


def main() -> int:
    try:
        train()
    except AlgorithmError as err:
        os.makedirs(os.path.dirname(FAILURE_FILE), exist_ok=True)
        with open(FAILURE_FILE, "w") as f:
            f.write(f"AlgorithmError: {err}")
        print(f"AlgorithmError: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
