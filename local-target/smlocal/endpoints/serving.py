"""Inference as SageMaker's serving containers answer ``POST /invocations``.

The model is loaded by batch transform's own classes (``containers.transform``), so an
endpoint and a transform job give the same prediction for the same row. Around them, what
the containers do over HTTP:

- built-in XGBoost (as its algorithm-mode server): ``text/csv`` (the default), ``text/libsvm``
  and ``text/x-libsvm`` in; ``text/csv`` (one prediction per line), ``application/json``
  (``{"predictions": [{"score": ...}]}``) and ``application/jsonlines`` out, the default
  accept type from ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``; an empty body is 204, an
  unsupported content type 415, an unsupported accept type 406, a failed prediction 400;
- framework models: the inference script's ``input_fn``/``predict_fn``/``output_fn`` (or the
  defaults), the body given as text for CSV and JSON and as bytes otherwise.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Optional, Protocol

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
LIBSVM = ("text/libsvm", "text/x-libsvm")
RECORDIO = "application/x-recordio-protobuf"
XGBOOST_ACCEPTS = (JSON, JSONLINES, RECORDIO, CSV)
TEXT_TYPES = (CSV, JSON, JSONLINES)


@dataclass
class Answer:
    """An HTTP answer of the model server."""

    status: int
    body: bytes
    content_type: str


class Handler(Protocol):
    def __call__(
        self, body: bytes, content_type: Optional[str], accept: Optional[str]
    ) -> Answer: ...


def media_type(header: Optional[str]) -> str:
    return (header or "").split(";")[0].strip().lower()


def _error(status: int, message: str) -> Answer:
    return Answer(status, message.encode(), "text/plain")


def libsvm_to_csv(payload: str, features: Optional[int]) -> str:
    """LIBSVM rows as CSV rows, absent features as ``nan`` (XGBoost's missing value).

    Indices are 1-based when none is 0, as the XGBoost container reads them.
    """
    rows = []
    for line in payload.strip().split("\n"):
        pairs = [item.split(":", 1) for item in line.split(" ") if ":" in item]
        rows.append({int(index): float(value) for index, value in pairs})
    indices = [i for row in rows for i in row]
    shift = 1 if indices and min(indices) >= 1 else 0
    width = max(features or 0, (max(indices) + 1 - shift) if indices else 0)
    return "\n".join(
        ",".join(repr(row.get(i + shift, float("nan"))) for i in range(width)) for row in rows
    )


class _HideSklearn:
    """Makes ``import sklearn`` fail while it is on ``sys.meta_path``.

    ``import xgboost`` imports scikit-learn (and SciPy) when it is installed, for its
    scikit-learn estimators: about 3 of the 4 seconds it takes here. The built-in algorithm's
    server uses only the Booster, so it imports xgboost without them, as the algorithm's own
    image would (xgboost supports scikit-learn being absent).
    """

    def find_spec(self, name, path=None, target=None):
        if name == "sklearn" or name.startswith("sklearn."):
            raise ImportError(f"{name} is not needed by the built-in XGBoost server")
        return None


def _import_xgboost() -> None:
    import sys

    if "xgboost" in sys.modules:
        return
    hide = _HideSklearn()
    sys.meta_path.insert(0, hide)
    try:
        import xgboost  # noqa: F401
    finally:
        sys.meta_path.remove(hide)


class XGBoostHandler:
    """The built-in XGBoost algorithm's server."""

    def __init__(self):
        _import_xgboost()
        from smlocal.containers.transform import BuiltinXGBoost

        self.model = BuiltinXGBoost()
        booster = getattr(self.model, "booster", None)
        self.features = booster.num_features() if hasattr(booster, "num_features") else None
        if hasattr(booster, "set_param"):
            booster.set_param("nthread", 1)  # as the container's server: one row needs no threads

    def __call__(self, body: bytes, content_type: Optional[str], accept: Optional[str]) -> Answer:
        if not body:
            return Answer(204, b"", CSV)
        kind = media_type(content_type) or CSV
        if kind == RECORDIO:
            return _error(415, f"Content-type {kind} is not supported locally")
        if kind != CSV and kind not in LIBSVM:
            return _error(
                415,
                f"Content-type {kind} not supported. Supported content-type is text/csv, "
                "text/libsvm, application/x-recordio-protobuf",
            )
        try:
            text = body.decode("utf-8").strip()
            rows = libsvm_to_csv(text, self.features) if kind in LIBSVM else text
        except (UnicodeDecodeError, ValueError) as err:
            return _error(415, f"Loading {kind} data failed: {err}")
        try:
            predictions = [float(p) for p in self.model(rows, CSV, CSV).split()]
        except Exception as err:  # noqa: BLE001 - the container answers 400 for any of these
            return _error(400, f"Unable to evaluate payload provided: {type(err).__name__}: {err}")
        wanted = media_type(accept)
        if wanted in ("", "*/*"):
            wanted = media_type(os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")) or CSV
        if wanted == RECORDIO:
            return _error(406, f"Accept type {wanted} is not supported locally")
        if wanted not in XGBOOST_ACCEPTS:
            return _error(
                406,
                f"Accept type {wanted} is not supported. Please use supported accept types: "
                f"{list(XGBOOST_ACCEPTS)}.",
            )
        return Answer(200, encode(predictions, wanted).encode(), wanted)


def encode(predictions: list[float], accept: str) -> str:
    """Predictions as the XGBoost container writes them for ``accept``."""
    if accept == JSON:
        return json.dumps({"predictions": [{"score": p} for p in predictions]})
    if accept == JSONLINES:
        return "".join(json.dumps({"score": p}) + "\n" for p in predictions)
    return "".join(f"{p!r}\n" for p in predictions)


class ScriptHandler:
    """A framework model served by its inference script."""

    def __init__(self, program: str):
        from smlocal.containers.transform import ScriptModel

        self.model = ScriptModel(program)

    def __call__(self, body: bytes, content_type: Optional[str], accept: Optional[str]) -> Answer:
        kind = media_type(content_type) or JSON
        wanted = media_type(accept)
        if wanted in ("", "*/*"):
            wanted = media_type(os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")) or JSON
        payload = body.decode("utf-8") if kind in TEXT_TYPES or kind.startswith("text/") else body
        try:
            result = self.model(payload, kind, wanted)
        except ValueError as err:
            message = str(err)
            if message.startswith("no default input_fn"):
                return _error(415, message)
            if message.startswith("no default output_fn"):
                return _error(406, message)
            return _error(500, f"{type(err).__name__}: {message}")
        except Exception as err:  # noqa: BLE001 - the script's own error: the container's 500
            return _error(500, f"{type(err).__name__}: {err}")
        data = result if isinstance(result, bytes) else str(result).encode()
        return Answer(200, data, wanted)


def load() -> Handler:
    """The handler of the model in ``/opt/ml/model`` (and ``/opt/ml/code``), as its image serves it."""
    program = os.environ.get("SAGEMAKER_PROGRAM")
    return ScriptHandler(program) if program else XGBoostHandler()
