"""Evaluates the scikit-learn model on the test split: /opt/ml/processing/evaluation/evaluation.json."""

import json
import os
import tarfile

import joblib
import numpy as np
import pandas as pd
from sklearn.metrics import mean_squared_error

BASE_DIR = "/opt/ml/processing"


def main():
    """Writes the regression metrics of the trained model."""
    with tarfile.open(f"{BASE_DIR}/model/model.tar.gz") as tar:
        tar.extractall(f"{BASE_DIR}/model/extracted", filter="data")
    model = joblib.load(f"{BASE_DIR}/model/extracted/model.joblib")
    test = pd.read_csv(f"{BASE_DIR}/test/test.csv", header=None).to_numpy()
    y, predictions = test[:, 0], model.predict(test[:, 1:])
    report = {
        "regression_metrics": {
            "mse": {
                "value": float(mean_squared_error(y, predictions)),
                "standard_deviation": float(np.std(y - predictions)),
            }
        }
    }
    os.makedirs(f"{BASE_DIR}/evaluation", exist_ok=True)
    with open(f"{BASE_DIR}/evaluation/evaluation.json", "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main()
