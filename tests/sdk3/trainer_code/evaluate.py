"""The model's mean squared error on the test set, as evaluation.json (a PropertyFile)."""

import json
import pathlib
import tarfile

import joblib
import numpy as np
from sklearn.metrics import mean_squared_error

base = pathlib.Path("/opt/ml/processing")
with tarfile.open(base / "model" / "model.tar.gz") as archive:
    archive.extractall(base / "model", filter="data")
model = joblib.load(base / "model" / "model.joblib")
test = np.loadtxt(base / "test" / "test.csv", delimiter=",", ndmin=2)
mse = float(mean_squared_error(test[:, -1], model.predict(test[:, :-1])))
report = {"regression_metrics": {"mse": {"value": mse, "standard_deviation": "NaN"}}}
(base / "evaluation").mkdir(parents=True, exist_ok=True)
(base / "evaluation" / "evaluation.json").write_text(json.dumps(report))
print(f"mse={mse}")
