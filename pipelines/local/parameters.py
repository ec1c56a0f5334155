"""Start-time parameter values: defaults, overrides, and their types checked up front."""

from __future__ import annotations

from typing import Any, Mapping

from pipelines.local.definition import ParameterSpec
from pipelines.local.errors import ParameterError


def coerce(spec: ParameterSpec, value: Any) -> Any:
    """A value of the parameter's type; SageMaker receives every override as a string."""
    kind = spec.type
    try:
        if kind == "String":
            if isinstance(value, (dict, list)):
                raise ValueError
            result: Any = value if isinstance(value, str) else str(value)
        elif kind == "Integer":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            result = int(value) if not isinstance(value, str) else int(value.strip())
        elif kind == "Float":
            if isinstance(value, bool):
                raise ValueError
            result = float(value)
        elif kind == "Boolean":
            if isinstance(value, bool):
                result = value
            elif isinstance(value, str) and value.strip().lower() in ("true", "false"):
                result = value.strip().lower() == "true"
            else:
                raise ValueError
        else:
            raise ParameterError(f"parameter {spec.name!r} has the unsupported type {kind!r}")
    except (TypeError, ValueError):
        raise ParameterError(
            f"parameter {spec.name!r} is {kind}; {value!r} is not a valid {kind} value"
        ) from None
    if spec.enum_values and result not in spec.enum_values:
        raise ParameterError(
            f"parameter {spec.name!r}: {result!r} is not one of {', '.join(map(str, spec.enum_values))}"
        )
    return result


def resolve(
    specs: Mapping[str, ParameterSpec], overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Every parameter's value for one execution; unknown names and bad values are refused."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(specs))
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)}; the pipeline declares: {', '.join(specs) or 'none'}"
        )
    values = {}
    for name, spec in specs.items():
        if name in overrides:
            values[name] = coerce(spec, overrides[name])
        elif spec.default is not None:
            values[name] = coerce(spec, spec.default)
        else:
            raise ParameterError(f"parameter {name!r} has no default value and none was given")
    return values
