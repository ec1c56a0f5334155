"""A batch transform job's container: load the model, run every record, write ``.out`` files.

Runs as the job's container process. The job is described by ``/opt/ml/input/config/transform.json``
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
import pickle
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
    """The built-in algorithm's batch inference: text/csv rows in, one prediction per line out.

    The model is loaded as the container loads it: unpickled (images before 1.3-1), else with
    ``Booster.load_model``.
    """

    def __init__(self):
        import xgboost

        self.xgboost = xgboost
        with open(os.path.join(MODEL_DIR, "xgboost-model"), "rb") as f:
            raw = f.read()
        try:
            self.booster = pickle.loads(raw)
        except Exception:  # not a pickle: the format save_model writes
            self.booster = xgboost.Booster()
            self.booster.load_model(bytearray(raw))

    def __call__(self, payload: str, content_type: str, accept: str) -> str:
        import numpy as np

        if content_type.split(";")[0].strip() not in ("text/csv", "csv"):
            raise ValueError(f"the built-in XGBoost model takes text/csv, not {content_type}")
        rows = [line for line in payload.splitlines() if line.strip()]
        data = np.array([[float(v) for v in _csv_fields(r)] for r in rows], dtype=float)
        predictions = self.booster.predict(self.xgboost.DMatrix(data))
        # the container's batch response: str() of each prediction, a newline after each
        return "".join(f"{p}\n" for p in predictions.tolist())


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
        # as the framework containers' encoder (numpy.savetxt): a newline after each row
        return "".join(_csv_line([repr(float(v)) for v in row]) + "\n" for row in rows)
    if kind == "application/json":
        return json.dumps(array.tolist())
    raise ValueError(f"no default output_fn for accept type {accept}")


def _responses(model, records: list[str], job: dict) -> list[str]:
    """The model's responses: one per record (SingleRecord) or one for them all."""
    if job.get("batch_strategy") == "SingleRecord":
        return [model(r, job["content_type"], job["accept"]) for r in records]
    return [model("\n".join(records), job["content_type"], job["accept"])]


def transform_object(model, text: str, job: dict) -> str:
    """One input object's output, as SageMaker assembles it.

    Without ``SplitType`` the object is one request and its response is the output as is.
    Split into lines, the responses are concatenated as they are (``AssembleWith`` None) or
    one record per line (``Line``); joins and output filters work record by record.
    """
    split = job.get("split_type") == "Line"
    records = [r for r in text.splitlines() if r.strip()] if split else [text]
    if job.get("input_filter"):
        records_in = [
            _csv_line(compile_filter(job["input_filter"])(_csv_fields(r))) for r in records
        ]
    else:
        records_in = records
    responses = _responses(model, records_in, job)
    join = job.get("join_source") == "Input"
    if not (join or job.get("output_filter")):
        if job.get("assemble_with") == "Line":
            lines = [line for response in responses for line in response.splitlines()]
            return "".join(f"{line}\n" for line in lines)
        return "".join(responses)
    outputs = [line for response in responses for line in response.splitlines()]
    if len(outputs) != len(records):
        raise ValueError(
            f"{len(records)} records gave {len(outputs)} predictions; cannot join them"
        )
    output_filter = compile_filter(job.get("output_filter"))
    lines = []
    for record, output in zip(records, outputs):
        fields = (_csv_fields(record) if join else []) + _csv_fields(output)
        lines.append(_csv_line(output_filter(fields)))
    return "".join(f"{line}\n" for line in lines)


def run() -> None:
    with open(CONFIG) as f:
        job = json.load(f)
    model = ScriptModel(job["program"]) if job.get("program") else BuiltinXGBoost()
    for relative in job["files"]:
        with open(os.path.join(INPUT_DIR, relative)) as f:
            text = f.read()
        try:
            output = transform_object(model, text, job)
        except ValueError as err:
            raise ValueError(f"{relative}: {err}") from None
        target = os.path.join(OUTPUT_DIR, relative + ".out")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as f:
            f.write(output)


if __name__ == "__main__":
    try:
        run()
    except Exception as err:  # reported as the job's failure, as the container would
        os.makedirs("/opt/ml/output", exist_ok=True)
        with open("/opt/ml/output/failure", "w") as f:
            f.write(f"{type(err).__name__}: {err}")
        raise
