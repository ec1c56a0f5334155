"""Adjustments to the sagemaker SDK: speed that changes no behaviour, and no telemetry."""

from __future__ import annotations

import json

from smlocal import imports

# Where each SDK major version validates its config (2.x: a function; 3.x: a static method).
_CONFIG_CHECKS = (
    ("sagemaker.utils", None),
    ("sagemaker.core.config.config_manager", "SageMakerConfig"),
)


def validate_config_once() -> None:
    """Validate each distinct SDK config once per process.

    The SDK re-validates its whole config against a JSON schema on every config lookup
    (0.1-0.7 s each, about a hundred lookups per pipeline definition). A config found valid
    once is valid again, so the result is remembered by the config's content. Applied now to
    the SDK's modules already imported, and to the others when they are.
    """
    for module, owner in _CONFIG_CHECKS:
        imports.when_imported(module, lambda found, owner=owner: _remember_checks(found, owner))


def _remember_checks(module, owner) -> None:
    holder = getattr(module, owner) if owner else module
    validate = getattr(holder, "validate_sagemaker_config", None)
    if validate is None or getattr(validate, "__wrapped__", None) is not None:
        return
    seen: set[str] = set()

    def validate_sagemaker_config(sagemaker_config=None):
        key = json.dumps(sagemaker_config, sort_keys=True, default=str)
        if key not in seen:
            validate(sagemaker_config)
            seen.add(key)

    validate_sagemaker_config.__wrapped__ = validate
    setattr(
        holder,
        "validate_sagemaker_config",
        staticmethod(validate_sagemaker_config) if owner else validate_sagemaker_config,
    )


def share_botocore_data() -> None:
    """Parse each of botocore's data files once per process, not once per session.

    A pipeline definition makes a score of boto3 sessions (the SDK's own, the pipeline's,
    the endpoint resolver's ...), each with a loader of its own that parses the same JSON again:
    ``endpoints.json`` about ten times and SageMaker's service model four, about 1 s in all.
    The files do not change while the process runs, and a loader hands its parsed data to every
    client of its session already, so sharing it across sessions changes nothing else.
    """
    import botocore.loaders

    original = botocore.loaders.Loader.load_data_with_path
    if getattr(original, "_shared", False):
        return
    cache: dict = {}

    def load_data_with_path(self, name):
        key = (tuple(self.search_paths), name)
        if key not in cache:
            cache[key] = original(self, name)
        return cache[key]

    load_data_with_path._shared = True
    load_data_with_path.__wrapped__ = original
    load_data_with_path.__doc__ = original.__doc__
    botocore.loaders.Loader.load_data_with_path = load_data_with_path


# Modules that send the SDK's usage telemetry over plain HTTPS (not through botocore).
_TELEMETRY_MODULES = (
    "sagemaker.telemetry.telemetry_logging",
    "sagemaker.core.telemetry.telemetry_logging",
)


def _no_request(url, timeout):  # noqa: D401 - stands in for the SDK's helper
    return None


def quiet_telemetry() -> None:
    """No SDK telemetry while the local target is on: it would go to AWS outside botocore.

    The SDK sends it with ``requests`` from one helper, replaced here in the SDK's telemetry
    module, now or when it is imported.
    """
    for name in _TELEMETRY_MODULES:
        imports.when_imported(name, _silence)


def _silence(module) -> None:
    if hasattr(module, "_requests_helper"):
        module._requests_helper = _no_request
