"""The local AWS services: one module per service, request dict in, response dict out.

Each holds its own state and rules (as moto's backends do); ``boundary`` is their wire.
Services are made per state folder and region, on first use, so a process that only touches
S3 never loads the pipeline engine.
"""

from __future__ import annotations

import importlib
import threading
from typing import Optional

from smlocal import config
from smlocal.services.base import Service, ServiceError, unsupported

# botocore service name -> (module, class, regional?)
_SERVICES = {
    "sagemaker": ("smlocal.services.sagemaker", "SageMakerService", True),
    "s3": ("smlocal.services.s3", "S3Service", False),
    "sts": ("smlocal.services.identity", "STSService", False),
    "iam": ("smlocal.services.identity", "IAMService", False),
    "logs": ("smlocal.services.logs", "LogsService", True),
    "sagemaker-runtime": ("smlocal.services.runtime", "RuntimeService", True),
    "lambda": ("smlocal.services.lambda_", "LambdaService", True),
    "sqs": ("smlocal.services.sqs", "SQSService", True),
}
_instances: dict[tuple, Service] = {}
_lock = threading.Lock()

__all__ = ["call", "get", "ServiceError"]


def get(service_name: str, region: Optional[str] = None) -> Optional[Service]:
    """The service for this state folder (and region), or None if the local target has none."""
    spec = _SERVICES.get(service_name)
    if spec is None:
        return None
    module_name, class_name, regional = spec
    home = config.home()
    region = region or config.DEFAULT_REGION
    key = (service_name, str(home), region if regional else None)
    with _lock:
        service = _instances.get(key)
        if service is None:
            cls = getattr(importlib.import_module(module_name), class_name)
            service = cls(home=home, region=region)
            _instances[key] = service
    return service


def call(service_name: str, operation: str, params: dict, region: Optional[str]) -> dict:
    service = get(service_name, region)
    if service is None:
        raise unsupported(service_name, operation)
    return service.call(operation, params)
