"""Provides utilities for SageMaker Pipeline CLI."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
from typing import Any, Optional


class UsageError(ValueError):
    """A mistake in what the user passed: reported in one line, exit code 2."""


def convert_struct(str_struct: Optional[str] = None, flag: str = "--kwargs") -> Any:
    """Parses a dict or list given as JSON or as a Python literal (``{}`` when empty).

    Raises:
        UsageError: naming ``flag`` and what is wrong with the value.
    """
    if str_struct is None or not str(str_struct).strip():
        return {}
    text = str(str_struct).strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError as json_error:
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise UsageError(
                f"{flag}: not valid JSON or a Python literal ({json_error.msg} at position "
                f"{json_error.pos}): {text[:80]!r}"
            ) from None


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
    """Fill in ``region`` when the module's get_pipeline needs one and none was passed."""
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
    return module.get_pipeline(**kwargs)


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
