"""Typed output parameters of Lambda and Callback steps (``OutputParameters``).

A step declares each output's name and type; the values its function returned (or its
callback sent) become the step's properties (``Steps.X.OutputParameters['name']``, typed) and
its metadata (``[{"Name", "Value"}]``, as ListPipelineExecutionSteps shows them, strings).
"""

from __future__ import annotations

import json
from typing import Any

from smlocal.definition import StepSpec
from smlocal.errors import DefinitionError, StepFailed

TYPES = ("String", "Integer", "Boolean", "Float")


def declared(step: StepSpec) -> list[dict]:
    return list(step.raw.get("OutputParameters") or [])


def validate(step: StepSpec) -> None:
    """Each output has a name and one of the four types."""
    for output in declared(step):
        if not isinstance(output, dict) or not output.get("OutputName"):
            raise DefinitionError(f"step {step.name!r}: an output parameter needs an OutputName")
        if output.get("OutputType", "String") not in TYPES:
            raise DefinitionError(
                f"step {step.name!r}: output {output['OutputName']!r} has type "
                f"{output.get('OutputType')!r}; supported: {', '.join(TYPES)}"
            )


def _typed(value: Any, kind: str) -> Any:
    if kind == "String":
        return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(value)
    if isinstance(value, bool):
        raise ValueError(value)
    if kind == "Integer":
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return int(value) if not isinstance(value, str) else int(value.strip())
    return float(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def resolve(step: StepSpec, values: dict, source: str) -> tuple[dict, list[dict]]:
    """(properties, metadata list) of the declared outputs, from ``values`` by name.

    Raises:
        StepFailed: an output missing from ``values`` or not of its declared type.
    """
    typed: dict[str, Any] = {}
    for output in declared(step):
        name, kind = output["OutputName"], output.get("OutputType", "String")
        if name not in values:
            raise StepFailed(f"ClientError: output parameter {name!r} is missing from {source}")
        try:
            typed[name] = _typed(values[name], kind)
        except (TypeError, ValueError):
            raise StepFailed(
                f"ClientError: output parameter {name!r} of {source} is not a {kind}: "
                f"{values[name]!r}"
            ) from None
    metadata = [{"Name": name, "Value": _text(value)} for name, value in typed.items()]
    return {"OutputParameters": typed}, metadata
