"""Evaluates the definition's expressions (Get, Std:Join, Std:JsonGet) and conditions.

The evaluator sees the run only through a ``Scope``: parameter values, execution variables,
finished steps' properties and property files. It never reaches into the engine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from smlocal.errors import StepFailed

_TOKEN = re.compile(
    r"\.?([A-Za-z_][\w-]*)|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[\s*(-?\d+)\s*\]"
)


class ExpressionError(StepFailed):
    """An expression that cannot be evaluated with what the run has produced."""


def parse_path(path: str) -> list:
    """``a.b['c'][0]`` -> ``['a', 'b', 'c', 0]``; ints index lists, strings name keys."""
    tokens: list = []
    pos = 0
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if not match or match.end() == pos:
            raise ExpressionError(f"cannot read the path {path!r} at {path[pos:]!r}")
        name, quoted, dquoted, index = match.groups()
        if index is not None:
            tokens.append(int(index))
        else:
            tokens.append(name if name is not None else (quoted if quoted is not None else dquoted))
        pos = match.end()
    return tokens


def _named_item(items: list, key: str) -> Any:
    """Find a named record in a list, as SageMaker indexes ``Outputs['train']``."""
    for item in items:
        if isinstance(item, dict) and any(k.endswith("Name") and v == key for k, v in item.items()):
            return item
    raise KeyError(key)


def walk(value: Any, tokens: list, what: str) -> Any:
    """Follow a parsed path into nested dicts and lists."""
    for token in tokens:
        try:
            if isinstance(value, list) and isinstance(token, str):
                value = _named_item(value, token)
            else:
                value = value[token]
        except (KeyError, IndexError, TypeError):
            raise ExpressionError(f"{what}: no {token!r} there") from None
    return value


@dataclass
class Scope:
    """What expressions can read during one execution."""

    parameters: dict[str, Any]
    execution: dict[str, Any]
    step_properties: dict[str, dict] = field(default_factory=dict)
    property_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    read_json: Optional[Callable[[str], Any]] = None

    def get(self, ref: str) -> Any:
        root, _, rest = ref.partition(".")
        if root == "Parameters":
            if rest not in self.parameters:
                raise ExpressionError(f"unknown parameter {rest!r}")
            return self.parameters[rest]
        if root == "Execution":
            if rest not in self.execution:
                raise ExpressionError(f"unknown execution variable {rest!r}")
            value = self.execution[rest]
            return value() if callable(value) else value
        if root == "Steps":
            tokens = parse_path(rest)
            step = tokens[0]
            if step not in self.step_properties:
                raise ExpressionError(f"{ref}: step {step!r} has not run")
            if len(tokens) >= 2 and tokens[1] == "PropertyFiles":
                raise ExpressionError(f"{ref}: a property file is read with Std:JsonGet")
            return walk(self.step_properties[step], tokens[1:], ref)
        raise ExpressionError(f"cannot Get {ref!r}")


def to_text(value: Any) -> str:
    """How Std:Join renders a value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def evaluate(value: Any, scope: Scope) -> Any:
    """The value of a JSON fragment with every function applied."""
    if isinstance(value, list):
        return [evaluate(item, scope) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Get":
            return scope.get(arg)
        if key == "Std:Join":
            parts = evaluate(arg.get("Values") or [], scope)
            return to_text(evaluate(arg.get("On", ""), scope)).join(to_text(p) for p in parts)
        if key == "Std:JsonGet":
            return _json_get(arg, scope)
    return {k: evaluate(v, scope) for k, v in value.items()}


def _json_get(arg: dict, scope: Scope) -> Any:
    path = evaluate(arg.get("Path"), scope)
    if "PropertyFile" in arg:
        ref = arg["PropertyFile"]
        ref = ref.get("Get") if isinstance(ref, dict) else ref
        tokens = parse_path(str(ref).removeprefix("Steps."))
        if len(tokens) != 3 or tokens[1] != "PropertyFiles":
            raise ExpressionError(f"Std:JsonGet: {ref!r} is not a property file reference")
        step, _, name = tokens
        try:
            document = scope.property_files[step][name]
        except KeyError:
            raise ExpressionError(
                f"Std:JsonGet: property file {name!r} of step {step!r} is not available"
            ) from None
    elif "S3Uri" in arg:
        if scope.read_json is None:
            raise ExpressionError("Std:JsonGet with S3Uri: no object store to read from")
        document = scope.read_json(evaluate(arg["S3Uri"], scope))
    else:
        raise ExpressionError("Std:JsonGet needs a PropertyFile or an S3Uri")
    return walk(document, parse_path(path), f"Std:JsonGet {path!r}")


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}
CONDITION_TYPES = tuple(_COMPARISONS) + ("In", "Not", "Or")


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Numbers compare as numbers (a property file's ``"4.9"`` included); else as given."""

    def number(v):
        if isinstance(v, bool):
            return None
        if isinstance(v, (int, float)):
            return v
        try:
            return float(v)
        except (TypeError, ValueError):
            return None

    ln, rn = number(left), number(right)
    if (
        ln is not None
        and rn is not None
        and (isinstance(left, (int, float)) or isinstance(right, (int, float)))
    ):
        return ln, rn
    return left, right


def check_condition(condition: dict) -> bool:
    """Evaluate one condition whose operands are already values."""
    ctype = condition.get("Type")
    if ctype in _COMPARISONS:
        left, right = _comparable(condition.get("LeftValue"), condition.get("RightValue"))
        try:
            return bool(_COMPARISONS[ctype](left, right))
        except TypeError:
            raise ExpressionError(f"{ctype}: cannot compare {left!r} with {right!r}") from None
    if ctype == "In":
        query = condition.get("QueryValue")
        return any(
            _comparable(query, v)[0] == _comparable(query, v)[1]
            for v in condition.get("Values") or []
        )
    if ctype == "Not":
        return not check_condition(condition.get("Condition") or {})
    if ctype == "Or":
        return any(check_condition(c) for c in condition.get("Conditions") or [])
    raise ExpressionError(
        f"unsupported condition type {ctype!r} (supported: {', '.join(CONDITION_TYPES)})"
    )
