"""SageMaker's own limits on names and numbers, read from botocore's service models.

botocore validates types and minimums on the client side but not patterns, and nothing
validates a pipeline definition's arguments before they reach the local target: these checks
refuse, as the service would, what would otherwise become a folder name or a count.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable, Iterator, Optional

import botocore.session


@functools.lru_cache(maxsize=None)
def model(service: str = "sagemaker"):
    return botocore.session.get_session().get_service_model(service)


def shape(path: str, service: str = "sagemaker"):
    """A shape by name, or by ``Shape.Member.Member`` (lists step into their member)."""
    name, *members = path.split(".")
    found = model(service).shape_for(name)
    for member in members:
        while found.type_name == "list":
            found = found.member
        found = found.members[member]
    return found


def request_member(operation: str, member: str, service: str = "sagemaker") -> str:
    """The path of a request's member for ``shape``: ``CreateEndpointInput.EndpointName``."""
    return f"{model(service).operation_model(operation).input_shape.name}.{member}"


@functools.lru_cache(maxsize=None)
def _pattern(path: str, service: str) -> Optional[re.Pattern]:
    text = shape(path, service).metadata.get("pattern")
    try:
        return re.compile(text) if text else None
    except re.error:  # written for another regex dialect: not checked here
        return None


def name_problem(value: Any, path: str, service: str = "sagemaker") -> Optional[str]:
    """Why ``value`` is not a valid name of shape ``path``, or None: its pattern and length."""
    if not isinstance(value, str):
        return f"must be a string, got {value!r}"
    meta = shape(path, service).metadata
    low, high = max(1, meta.get("min", 1)), meta.get("max")
    if len(value) < low or (high is not None and len(value) > high):
        span = f"{low} to {high}" if high is not None else f"at least {low}"
        return f"{value!r} must have {span} characters"
    pattern = _pattern(path, service)
    if pattern is not None and not pattern.fullmatch(value):
        return f"{value!r} does not match SageMaker's pattern {pattern.pattern}"
    return None


def _short(value: Any) -> str:
    return repr(value)[:100]


def range_problems(
    value: Any, operation: str, skip: Callable[[Any], bool], service: str = "sagemaker"
) -> Iterator[str]:
    """Numbers outside the operation's ranges, and objects or lists of the wrong type.

    ``skip`` tells values that are not literals yet (a definition's expressions): unchecked.
    """
    yield from _walk(value, model(service).operation_model(operation).input_shape, "", skip)


def _walk(value: Any, found, where: str, skip) -> Iterator[str]:
    if value is None or skip(value):
        return
    kind = found.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            yield f"{where or 'the request'} must be a JSON object, got {_short(value)}"
            return
        for key, item in value.items():
            if key in found.members:
                yield from _walk(item, found.members[key], f"{where}.{key}".lstrip("."), skip)
    elif kind == "list":
        if not isinstance(value, list):
            yield f"{where} must be a list, got {_short(value)}"
            return
        for index, item in enumerate(value):
            yield from _walk(item, found.member, f"{where}[{index}]", skip)
    elif kind in ("integer", "long"):
        integral = isinstance(value, float) and value.is_integer()
        if isinstance(value, bool) or not (isinstance(value, int) or integral):
            yield f"{where} must be an integer, got {value!r}"
            return
        low, high = found.metadata.get("min"), found.metadata.get("max")
        if low is not None and value < low:
            yield f"{where} is {value}; SageMaker's minimum is {low}"
        if high is not None and value > high:
            yield f"{where} is {value}; SageMaker's maximum is {high}"
