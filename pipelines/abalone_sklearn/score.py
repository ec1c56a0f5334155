"""Scores a batch transform's output (lines of ``label,prediction``): /opt/ml/processing/score/score.json."""

import glob
import json
import os

import numpy as np

BASE_DIR = "/opt/ml/processing"


def main():
    """Mean squared error and row count of the transform's predictions."""
    rows = []
    for path in sorted(glob.glob(f"{BASE_DIR}/transform/**/*.out", recursive=True)):
        with open(path) as f:
            rows += [[float(v) for v in line.split(",")] for line in f if line.strip()]
    data = np.array(rows)
    mse = float(np.mean((data[:, 0] - data[:, 1]) ** 2))
    os.makedirs(f"{BASE_DIR}/score", exist_ok=True)
    with open(f"{BASE_DIR}/score/score.json", "w") as f:
        json.dump({"regression_metrics": {"mse": {"value": mse}}, "rows": len(rows)}, f)
    print(f"scored {len(rows)} predictions: mse={mse:.4f}")


if __name__ == "__main__":
    main()
