"""SageMaker's built-in XGBoost algorithm, emulated with the ``xgboost`` package.

Runs inside a training step's process with ``/opt/ml`` remapped, and reads and writes what
the algorithm container does: hyperparameters and channels from ``/opt/ml/input``, the
booster to ``/opt/ml/model/xgboost-model``, a failure message to ``/opt/ml/output/failure``,
and per-round metrics in the log lines CloudWatch shows (``[i]#011train-rmse:...``).
"""

from __future__ import annotations

import glob
import json
import os
import pickle
import re
import sys

import numpy as np
import pandas as pd
import xgboost

INPUT = "/opt/ml/input"
MODEL_FILE = "/opt/ml/model/xgboost-model"
FAILURE_FILE = "/opt/ml/output/failure"
# The job runner names the image here, as the image itself knows its own version.
IMAGE_ENV = "SMLOCAL_TRAINING_IMAGE"
# Images before 1.3-1 save the model by pickling the Booster (and evaluation scripts written
# for them unpickle it); later ones use XGBoost's own format.
_PICKLING_VERSIONS = re.compile(r":(0\.72|0\.90|1\.0|1\.2)-")

OBJECTIVE_ALIASES = {"reg:linear": "reg:squarederror", "reg:logistic": "reg:logistic"}
# Read by the container itself, or only meaningful to the service: not booster parameters.
CONTAINER_ONLY = {
    "num_round",
    "early_stopping_rounds",
    "csv_weights",
    "silent",
    "save_model_on_termination",
    "_kfold",
    "_num_cv_round",
    "_tuning_objective_metric",
    "use_dask_gpu_training",
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


def booster_params(hyperparameters: dict) -> tuple[dict, int, int | None]:
    """(xgboost params, num_round, early_stopping_rounds) from the job's string hyperparameters."""
    if "num_round" not in hyperparameters:
        raise AlgorithmError("Missing required hyperparameter: num_round")
    try:
        num_round = int(hyperparameters["num_round"])
    except ValueError:
        raise AlgorithmError(
            f"num_round must be an integer, got {hyperparameters['num_round']!r}"
        ) from None
    early = hyperparameters.get("early_stopping_rounds")
    params = {
        key: _number(str(value))
        for key, value in hyperparameters.items()
        if key not in CONTAINER_ONLY and not key.startswith("sagemaker_")
    }
    if "objective" in params:
        params["objective"] = OBJECTIVE_ALIASES.get(params["objective"], params["objective"])
    if str(hyperparameters.get("silent", "0")) == "1":
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


def train() -> None:
    with open(f"{INPUT}/config/hyperparameters.json") as f:
        hyperparameters = json.load(f)
    with open(f"{INPUT}/config/inputdataconfig.json") as f:
        channels = json.load(f)
    if "train" not in channels:
        raise AlgorithmError("the built-in XGBoost algorithm needs a 'train' channel")
    params, num_round, early = booster_params(hyperparameters)
    csv_weights = str(hyperparameters.get("csv_weights", "0")) == "1"
    evals = []
    for name in ("train", "validation"):
        if name in channels:
            content_type = channels[name].get("ContentType") or "text/csv"
            evals.append((read_channel(name, content_type, csv_weights), name))
    history: dict = {}
    try:
        booster = xgboost.train(
            params,
            evals[0][0],
            num_boost_round=num_round,
            evals=evals,
            evals_result=history,
            early_stopping_rounds=early if len(evals) > 1 else None,
            verbose_eval=False,
        )
    except xgboost.core.XGBoostError as err:
        raise AlgorithmError(str(err).splitlines()[0]) from None
    rounds = len(next(iter(next(iter(history.values())).values()))) if history else 0
    for i in range(rounds):
        fields = [
            f"{channel}-{metric}:{values[i]:.5f}"
            for channel, metrics in history.items()
            for metric, values in metrics.items()
        ]
        print(f"[{i}]#011" + "#011".join(fields), flush=True)
    os.makedirs(os.path.dirname(MODEL_FILE), exist_ok=True)
    # Written through Python (not booster.save_model) so the path goes through the remap.
    with open(MODEL_FILE, "wb") as f:
        f.write(model_bytes(booster, os.environ.get(IMAGE_ENV, "")))


def model_bytes(booster: xgboost.Booster, image_uri: str) -> bytes:
    """The model file as the image writes it: a pickled Booster before 1.3-1, else UBJSON."""
    if _PICKLING_VERSIONS.search(image_uri):
        return pickle.dumps(booster)
    return booster.save_raw(raw_format="ubj")


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
