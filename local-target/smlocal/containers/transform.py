"""A batch transform job's container: load the model, run every record, write ``.out`` files.

Runs with ``/opt/ml`` remapped. The job is described by ``/opt/ml/input/config/transform.json``
(written by the Transform step): the input files, content type, split type, accept type,
DataProcessing filters and join source. Models are served as SageMaker's containers serve
them: the built-in XGBoost algorithm (CSV in, one prediction per line out), or a framework
model with an inference script (``model_fn``; ``input_fn``, ``predict_fn``, ``output_fn`` or
the framework containers' defaults).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import sys

from smlocal.containers import remap
from smlocal.containers.csv_filters import compile_filter

CONFIG = "/opt/ml/input/config/transform.json"
MODEL_DIR = "/opt/ml/model"
CODE_DIR = "/opt/ml/code"
INPUT_DIR = "/opt/ml/transform/input"
OUTPUT_DIR = "/opt/ml/transform/output"


def _csv_fields(line: str) -> list[str]:
    return next(csv.reader([line])) if line else []


def _csv_line(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()


class BuiltinXGBoost:
    """The built-in algorithm's inference: text/csv rows of features, one prediction each."""

    def __init__(self):
        import xgboost

        self.xgboost = xgboost
        with open(os.path.join(MODEL_DIR, "xgboost-model"), "rb") as f:
            self.booster = xgboost.Booster()
            self.booster.load_model(bytearray(f.read()))

    def __call__(self, payload: str, content_type: str, accept: str) -> str:
        import numpy as np

        if content_type.split(";")[0].strip() not in ("text/csv", "csv"):
            raise ValueError(f"the built-in XGBoost model takes text/csv, not {content_type}")
        rows = [line for line in payload.splitlines() if line.strip()]
        data = np.array([[float(v) for v in _csv_fields(r)] for r in rows], dtype=float)
        predictions = self.booster.predict(self.xgboost.DMatrix(data))
        return "\n".join(repr(float(p)) for p in predictions)


class ScriptModel:
    """A framework model: the user's inference script, with the containers' default handlers."""

    def __init__(self, program: str):
        code_dir = remap.to_local(CODE_DIR)  # the import system does not go through the path map
        sys.path.insert(0, code_dir)
        spec = importlib.util.spec_from_file_location("inference", os.path.join(code_dir, program))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if not hasattr(module, "model_fn"):
            raise ValueError(f"{program} must define model_fn(model_dir) to serve a model")
        self.module = module
        self.model = module.model_fn(MODEL_DIR)

    def __call__(self, payload: str, content_type: str, accept: str) -> str:
        m = self.module
        data = (
            m.input_fn(payload, content_type)
            if hasattr(m, "input_fn")
            else _default_input(payload, content_type)
        )
        prediction = (
            m.predict_fn(data, self.model) if hasattr(m, "predict_fn") else self.model.predict(data)
        )
        if hasattr(m, "output_fn"):
            result = m.output_fn(prediction, accept)
            result = result[0] if isinstance(result, tuple) else result
            return result.decode() if isinstance(result, bytes) else str(result)
        return _default_output(prediction, accept)


def _default_input(payload: str, content_type: str):
    import numpy as np

    kind = content_type.split(";")[0].strip()
    if kind == "text/csv":
        return np.array(
            [[float(v) for v in _csv_fields(r)] for r in payload.splitlines() if r.strip()]
        )
    if kind == "application/json":
        return np.array(json.loads(payload))
    raise ValueError(f"no default input_fn for content type {content_type}")


def _default_output(prediction, accept: str) -> str:
    import numpy as np

    kind = (accept or "text/csv").split(";")[0].strip()
    array = np.asarray(prediction)
    if kind == "text/csv":
        rows = array.reshape(len(array), -1) if array.ndim else array.reshape(1, 1)
        return "\n".join(_csv_line([repr(float(v)) for v in row]) for row in rows)
    if kind == "application/json":
        return json.dumps(array.tolist())
    raise ValueError(f"no default output_fn for accept type {accept}")


def run() -> None:
    with open(CONFIG) as f:
        job = json.load(f)
    model = ScriptModel(job["program"]) if job.get("program") else BuiltinXGBoost()
    input_filter = compile_filter(job.get("input_filter"))
    output_filter = compile_filter(job.get("output_filter"))
    join = job.get("join_source") == "Input"
    for relative in job["files"]:
        with open(os.path.join(INPUT_DIR, relative)) as f:
            text = f.read()
        records = (
            [r for r in text.splitlines() if r.strip()]
            if job.get("split_type") == "Line"
            else [text]
        )
        filtered = (
            [_csv_line(input_filter(_csv_fields(r))) for r in records]
            if job.get("input_filter")
            else records
        )
        if job.get("batch_strategy") == "SingleRecord":
            outputs = [model(r, job["content_type"], job["accept"]) for r in filtered]
        else:
            outputs = model("\n".join(filtered), job["content_type"], job["accept"]).splitlines()
        if len(outputs) != len(records) and (join or job.get("output_filter")):
            raise ValueError(
                f"{relative}: {len(records)} records gave {len(outputs)} predictions; cannot join them"
            )
        lines = []
        for i, output in enumerate(outputs):
            fields = _csv_fields(output)
            if join:
                fields = _csv_fields(records[i]) + fields
            lines.append(
                _csv_line(output_filter(fields)) if (join or job.get("output_filter")) else output
            )
        target = os.path.join(OUTPUT_DIR, relative + ".out")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        separator = "\n" if job.get("assemble_with") == "Line" else ""
        with open(target, "w") as f:
            f.write(separator.join(lines) + ("\n" if separator and lines else ""))


if __name__ == "__main__":
    try:
        run()
    except Exception as err:  # reported as the job's failure, as the container would
        os.makedirs("/opt/ml/output", exist_ok=True)
        with open("/opt/ml/output/failure", "w") as f:
            f.write(f"{type(err).__name__}: {err}")
        raise
