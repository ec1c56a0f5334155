"""Provides utilities for SageMaker Pipeline CLI."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import re
from typing import Any, Optional

# How deep a flag's value may nest: far more than any kwargs or parameters need, and well
# inside what the SDK and botocore walk recursively afterwards.
MAX_DEPTH = 32
MODULE_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
REGION = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class UsageError(ValueError):
    """A mistake in what the user passed: reported in one line, exit code 2."""


def convert_struct(str_struct: Optional[str] = None, flag: str = "--kwargs") -> Any:
    """Parses a dict or list given as JSON or as a Python literal (``{}`` when empty).

    Any value that cannot be parsed -- malformed, too deep, too large -- is the user's to fix.

    Raises:
        UsageError: naming ``flag`` and what is wrong with the value.
    """
    if str_struct is None or not str(str_struct).strip():
        return {}
    text = str(str_struct).strip()
    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep(flag) from None
    except (ValueError, MemoryError) as json_error:  # JSONDecodeError, or a 5,000-digit number
        value = _literal(text, flag, json_error)
    if _depth(value) > MAX_DEPTH:
        raise _too_deep(flag)
    return value


def _literal(text: str, flag: str, json_error: Exception) -> Any:
    """The value as a Python literal, or a UsageError that cites the JSON reading's error."""
    if isinstance(json_error, json.JSONDecodeError):
        why = f"{json_error.msg} at position {json_error.pos}"
    else:
        why = str(json_error).split(";")[0] or type(json_error).__name__
    try:
        return ast.literal_eval(text)
    except RecursionError:
        raise _too_deep(flag) from None
    except (ValueError, SyntaxError, TypeError, MemoryError, OverflowError):
        raise UsageError(
            f"{flag}: not valid JSON or a Python literal ({why}): {text[:80]!r}"
        ) from None


def _too_deep(flag: str) -> "UsageError":
    return UsageError(f"{flag}: the value nests more than {MAX_DEPTH} levels deep")


def _depth(value: Any) -> int:
    """How deep lists, tuples and dicts nest in ``value`` (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, (list, tuple, set)):
            children = list(item)
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def _as_dict(value: Any, flag: str) -> dict:
    if not isinstance(value, dict):
        raise UsageError(
            f'{flag}: expected a dict such as \'{{"key": "value"}}\', got a {type(value).__name__}'
        )
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise UsageError(f"{flag}: keys must be strings, got {bad[0]!r}")
    return value


def parse_kwargs(str_struct: Optional[str], flag: str = "--kwargs") -> dict:
    """A dict-valued flag (``--kwargs``, ``--parameters``)."""
    return _as_dict(convert_struct(str_struct, flag), flag)


def parse_tags(str_struct: Optional[str], flag: str = "--tags") -> list:
    """``--tags``: a list of ``{"Key": ..., "Value": ...}``."""
    value = convert_struct(str_struct, flag)
    if value == {}:
        return []
    if not isinstance(value, list):
        raise UsageError(f'{flag}: expected a list such as \'[{{"Key": "k", "Value": "v"}}]\'')
    for i, tag in enumerate(value):
        if not isinstance(tag, dict) or set(tag) != {"Key", "Value"}:
            raise UsageError(
                f"{flag}: item {i} must be a dict with exactly the keys Key and Value, got {tag!r}"
            )
        if not all(isinstance(v, str) for v in tag.values()):
            raise UsageError(f"{flag}: item {i}: Key and Value must be strings, got {tag!r}")
    return value


def import_pipeline_module(module_name: str):
    """The pipeline module, or a UsageError saying why it cannot be used."""
    if not MODULE_NAME.match(module_name or ""):
        raise UsageError(
            f"--module-name: {module_name!r} is not a module name "
            "(expected a dotted name such as pipelines.abalone.pipeline)"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            raise UsageError(f"--module-name: no module named {module_name!r}") from None
        raise
    if not callable(getattr(module, "get_pipeline", None)):
        raise UsageError(f"--module-name: module {module_name!r} has no get_pipeline function")
    return module


def _check_kwargs(func, kwargs: dict, module_name: str) -> None:
    signature = inspect.signature(func)
    if any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values()):
        return
    unknown = sorted(set(kwargs) - set(signature.parameters))
    if unknown:
        raise UsageError(
            f"--kwargs: {module_name}.{func.__name__}() takes no argument {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(signature.parameters)}"
        )
    missing = [
        name
        for name, p in signature.parameters.items()
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and name not in kwargs
    ]
    if missing:
        raise UsageError(
            f"--kwargs: {module_name}.{func.__name__}() needs {', '.join(map(repr, missing))}"
        )


def default_region() -> Optional[str]:
    """The region the AWS tools would use, from the environment or the AWS config."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        return region
    import boto3

    return boto3.Session().region_name


def with_region(module_name: str, kwargs: dict, fallback: Optional[str] = None) -> dict:
    """Fill in ``region`` when the module's get_pipeline needs one and none was passed.

    Raises:
        UsageError: when the region passed is not a region name.
    """
    region = kwargs.get("region")
    if region is not None and not (isinstance(region, str) and REGION.match(region)):
        raise UsageError(
            f"--kwargs: region must be an AWS region name such as 'us-east-1', got {region!r}"
        )
    module = import_pipeline_module(module_name)
    if "region" in inspect.signature(module.get_pipeline).parameters and not kwargs.get("region"):
        region = default_region() or fallback
        if region:
            return {**kwargs, "region": region}
    return kwargs


def get_pipeline_driver(module_name, passed_args=None):
    """Gets the pipeline instance of ``module_name``'s get_pipeline, called with ``passed_args``."""
    module = import_pipeline_module(module_name)
    kwargs = passed_args if isinstance(passed_args, dict) else parse_kwargs(passed_args)
    _check_kwargs(module.get_pipeline, kwargs, module_name)
    pipeline = module.get_pipeline(**kwargs)
    if not all(callable(getattr(pipeline, m, None)) for m in ("definition", "upsert", "start")):
        raise UsageError(
            f"--module-name: {module_name}.get_pipeline() returned {type(pipeline).__name__}, "
            "not a sagemaker.workflow.pipeline.Pipeline"
        )
    return pipeline


def get_pipeline_custom_tags(module_name, args, tags):
    """Gets the custom tags for pipeline (the project's tags appended), if the module has them."""
    try:
        module = importlib.import_module(module_name)
        if not hasattr(module, "get_pipeline_custom_tags"):  # the tag helper is optional
            return tags
        kwargs = args if isinstance(args, dict) else parse_kwargs(args)
        return module.get_pipeline_custom_tags(
            tags, kwargs.get("region"), kwargs.get("sagemaker_project_name")
        )
    except Exception as e:  # the template's contract: project tags are best effort
        print(f"Error getting project tags: {e}")
    return tags
