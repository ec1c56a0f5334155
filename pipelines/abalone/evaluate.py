"""Evaluation script for measuring mean squared error.

Runs as a SageMaker Processing script in the XGBoost image: reads the model artifact from
/opt/ml/processing/model and the test split from /opt/ml/processing/test, and writes
/opt/ml/processing/evaluation/evaluation.json.
"""

import json
import logging
import os
import pathlib
import tarfile

import numpy as np
import pandas as pd
import xgboost
from sklearn.metrics import mean_squared_error

logger = logging.getLogger()
logger.setLevel(logging.INFO)
logger.addHandler(logging.StreamHandler())

BASE_DIR = "/opt/ml/processing"


def load_booster(model_tar):
    """Loads the booster SageMaker's XGBoost algorithm saved as ``xgboost-model``."""
    with tarfile.open(model_tar) as tar:
        member = tar.extractfile("xgboost-model")
        raw = member.read()
    booster = xgboost.Booster()
    booster.load_model(bytearray(raw))
    return booster


def evaluate(booster, df):
    """The report for a frame whose first column is the label."""
    y_test = df.iloc[:, 0].to_numpy()
    x_test = xgboost.DMatrix(df.iloc[:, 1:].values)
    predictions = booster.predict(x_test)
    mse = mean_squared_error(y_test, predictions)
    std = np.std(y_test - predictions)
    return {
        "regression_metrics": {
            "mse": {"value": float(mse), "standard_deviation": float(std)},
        },
    }


def main():
    """Evaluates the trained model on the test split."""
    logger.debug("Starting evaluation.")
    booster = load_booster(f"{BASE_DIR}/model/model.tar.gz")

    logger.debug("Reading test data.")
    df = pd.read_csv(f"{BASE_DIR}/test/test.csv", header=None)
    report_dict = evaluate(booster, df)
    output_dir = f"{BASE_DIR}/evaluation"
    pathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)

    logger.info(
        "Writing out evaluation report with mse: %f",
        report_dict["regression_metrics"]["mse"]["value"],
    )
    evaluation_path = os.path.join(output_dir, "evaluation.json")
    with open(evaluation_path, "w") as f:
        f.write(json.dumps(report_dict))


if __name__ == "__main__":
    main()
