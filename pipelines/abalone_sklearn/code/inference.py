"""Inference handlers for the scikit-learn serving container (used by batch transform)."""

import io
import os

import joblib
import numpy as np


def model_fn(model_dir):
    """Loads the model train.py saved."""
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(request_body, content_type):
    """CSV rows of features (the label already filtered out by the transform's InputFilter)."""
    if content_type != "text/csv":
        raise ValueError(f"unsupported content type {content_type}")
    return np.loadtxt(io.StringIO(request_body), delimiter=",", ndmin=2)


def predict_fn(input_data, model):
    """One prediction per row."""
    return model.predict(input_data)


def output_fn(prediction, accept):
    """One prediction per line."""
    if accept != "text/csv":
        raise ValueError(f"unsupported accept type {accept}")
    return "\n".join(f"{value:.6f}" for value in prediction)
