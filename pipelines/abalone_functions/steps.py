"""The abalone flow as plain functions: each one becomes a ``@step`` in ``pipeline.py``.

They import what they use inside, so that they travel by value (``pipeline.py`` registers
this module with cloudpickle): the job needs the image's packages (pandas, NumPy, XGBoost),
not a copy of this repository.
"""

FEATURES = [
    "sex_F",
    "sex_I",
    "sex_M",
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
]
COLUMNS = ["sex", *FEATURES[3:], "rings"]


def preprocess(input_data: str, seed: int = 42) -> dict:
    """The raw CSV from S3, one-hot encoded and split 70/15/15 (target first, as XGBoost reads)."""
    import io

    import boto3
    import numpy as np
    import pandas as pd

    bucket, key = input_data.removeprefix("s3://").split("/", 1)
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    frame = pd.read_csv(io.BytesIO(body), header=None, names=COLUMNS)
    encoded = pd.get_dummies(frame, columns=["sex"], dtype=float)
    table = encoded[["rings", *FEATURES]].to_numpy(dtype=float)
    np.random.default_rng(seed).shuffle(table)
    first, second = int(0.7 * len(table)), int(0.85 * len(table))
    return {"train": table[:first], "validation": table[first:second], "test": table[second:]}


def train(train_rows, validation_rows, num_round: int, max_depth: int) -> bytes:
    """An XGBoost regressor of the rings; returns the model (XGBoost's JSON) as bytes."""
    import xgboost as xgb

    booster = xgb.train(
        {"objective": "reg:squarederror", "max_depth": max_depth, "eta": 0.2, "seed": 0},
        xgb.DMatrix(train_rows[:, 1:], label=train_rows[:, 0]),
        num_boost_round=num_round,
        evals=[(xgb.DMatrix(validation_rows[:, 1:], label=validation_rows[:, 0]), "validation")],
    )
    return bytes(booster.save_raw("json"))


def evaluate(model: bytes, test_rows) -> dict:
    """The model's mean squared error (and its spread) on the test rows."""
    import numpy as np
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(bytearray(model))
    predictions = booster.predict(xgb.DMatrix(test_rows[:, 1:]))
    errors = (test_rows[:, 0] - predictions) ** 2
    return {"mse": float(np.mean(errors)), "standard_deviation": float(np.std(errors))}
