"""Adjustments to the sagemaker SDK that change its speed, never its behaviour."""

from __future__ import annotations

import json


def validate_config_once() -> None:
    """Validate each distinct SDK config once per process.

    The SDK re-validates its whole config against a JSON schema on every config lookup
    (0.1-0.2 s each, about a hundred lookups per pipeline definition). A config found valid
    once is valid again, so the result is remembered by the config's content.
    """
    import sagemaker.utils

    validate = sagemaker.utils.validate_sagemaker_config
    if getattr(validate, "__wrapped__", None) is not None:
        return
    seen: set[str] = set()

    def validate_sagemaker_config(sagemaker_config=None):
        key = json.dumps(sagemaker_config, sort_keys=True, default=str)
        if key not in seen:
            validate(sagemaker_config)
            seen.add(key)

    validate_sagemaker_config.__wrapped__ = validate
    sagemaker.utils.validate_sagemaker_config = validate_sagemaker_config
