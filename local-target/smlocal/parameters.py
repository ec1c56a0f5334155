"""Start-time parameter values: defaults, overrides, and their types checked up front."""

from __future__ import annotations

from typing import Any, Mapping

from smlocal.definition import ParameterSpec, parse_parameters
from smlocal.errors import ParameterError


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


def check_overrides(
    specs: Mapping[str, ParameterSpec], overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The overrides, each of its parameter's type; unknown names and bad values are refused.

    Missing values are not judged here: whether a default is needed is the target's rule.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(specs))
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)}; the pipeline declares: {', '.join(specs) or 'none'}"
        )
    return {name: coerce(specs[name], value) for name, value in overrides.items()}


def check(definition: str | dict, overrides: Mapping[str, Any] | None) -> None:
    """Refuse overrides the definition's Parameters cannot take, before anything is made.

    Only the Parameters are read, so the check holds on SageMaker as on the local target.

    Raises:
        ParameterError: naming the parameter, the value and what it should be.
        DefinitionError: the definition's Parameters themselves cannot be read.
    """
    if overrides:
        check_overrides(parse_parameters(definition), overrides)


def resolve(
    specs: Mapping[str, ParameterSpec], overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Every parameter's value for one execution; unknown names and bad values are refused."""
    given = check_overrides(specs, overrides)
    values = {}
    for name, spec in specs.items():
        if name in given:
            values[name] = given[name]
        elif spec.default is not None:
            values[name] = coerce(spec, spec.default)
        else:
            raise ParameterError(f"parameter {name!r} has no default value and none was given")
    return values
