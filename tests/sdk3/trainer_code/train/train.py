"""Fits a least-squares linear model on the train channel; the model goes to /opt/ml/model."""

import os
import pathlib

import joblib
import numpy as np
from sklearn.linear_model import LinearRegression

channel = pathlib.Path(os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
data = np.vstack([np.loadtxt(p, delimiter=",", ndmin=2) for p in sorted(channel.glob("*.csv"))])
model = LinearRegression().fit(data[:, :-1], data[:, -1])
joblib.dump(model, pathlib.Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model")) / "model.joblib")
print(f"coefficients={model.coef_.tolist()} intercept={model.intercept_}")
