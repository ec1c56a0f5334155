"""AWS Lambda, locally: Python functions created, updated, described, invoked and deleted.

What the SDK's ``sagemaker.lambda_helper.Lambda`` calls (CreateFunction with a zipped script or
code in S3, UpdateFunctionCode, Invoke, DeleteFunction) and what users and pipelines' Lambda
steps need (GetFunction, GetFunctionConfiguration, UpdateFunctionConfiguration, ListFunctions).
Handlers run in this Python environment, one process per invocation (``functions.runtime``);
functions of other runtimes or container images are refused by name when created.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from pathlib import Path
from typing import Any, Callable, Optional

from botocore.response import StreamingBody

from smlocal import config
from smlocal.functions import (
    FunctionExists,
    FunctionNotFound,
    FunctionRecord,
    FunctionStore,
    InvalidFunction,
    parse_name,
)
from smlocal.functions import invoke as run_handler
from smlocal.services.base import Service, ServiceError
from smlocal.store import ObjectStore, StoreError

CONFIGURABLE = {  # UpdateFunctionConfiguration's fields -> FunctionRecord's
    "Role": "role",
    "Handler": "handler",
    "Description": "description",
    "Timeout": "timeout",
    "MemorySize": "memory_size",
    "Runtime": "runtime",
}


def _error(code: str, message: str, status: int) -> ServiceError:
    return ServiceError(code, message, status=status, extra={"Type": "User"})


def _errors(func: Callable) -> Callable:
    """Lambda's error codes for the function store's errors."""

    def method(self, **kwargs):
        try:
            return func(self, **kwargs)
        except FunctionNotFound as err:
            raise _error("ResourceNotFoundException", str(err), 404) from None
        except FunctionExists as err:
            raise _error("ResourceConflictException", str(err), 409) from None
        except InvalidFunction as err:
            raise _error("InvalidParameterValueException", str(err), 400) from None

    method.__name__, method.__doc__ = func.__name__, func.__doc__
    return method


def _bytes(payload: Any) -> bytes:
    """A blob parameter as the caller gave it: bytes, text or a file."""
    if payload is None:
        return b""
    if hasattr(payload, "read"):
        payload = payload.read()
    return payload.encode() if isinstance(payload, str) else bytes(payload)


def check_runtime(runtime: Optional[str], package_type: str) -> None:
    """Handlers run in this Python: other runtimes and container images are refused by name."""
    if package_type == "Image":
        raise InvalidFunction(
            "Container image functions (PackageType Image) are not supported locally; "
            "give a zipped Python handler"
        )
    if not runtime or not runtime.startswith("python"):
        raise InvalidFunction(
            f"Runtime {runtime!r} is not supported locally: the local target runs Python "
            "handlers (python3.x runtimes), in this Python environment"
        )


class LambdaService(Service):
    """The Lambda API subset above, over ``functions``."""

    name = "lambda"

    def __init__(self, home: Path, region: str = config.DEFAULT_REGION):
        self.home, self.region = Path(home), region
        self.functions = FunctionStore(self.home)
        self.objects = ObjectStore(self.home / "s3")

    def _record(self, function_name: str, qualifier: Optional[str] = None) -> FunctionRecord:
        region, name, arn_qualifier = parse_name(function_name)
        qualifier = qualifier or arn_qualifier
        if qualifier not in (None, "$LATEST"):
            raise InvalidFunction(
                f"Function versions and aliases ({qualifier}) are not supported locally; "
                "the local target runs $LATEST"
            )
        return self.functions.get(region or self.region, name)

    def _code(self, name: str, zip_file: Any = None, bucket: str = None, key: str = None):
        """Keep the code from a ZipFile blob or an S3 object of the local object store."""
        if zip_file is not None:
            archive = _bytes(zip_file)
        elif bucket and key:
            try:
                archive = self.objects.get_bytes(f"s3://{bucket}/{key}")
            except StoreError as err:
                raise InvalidFunction(f"Error occurred while GetObject. S3 Error: {err}") from None
        else:
            raise InvalidFunction("Code needs ZipFile, or S3Bucket and S3Key")
        return self.functions.put_code(self.region, name, archive)

    @_errors
    def create_function(self, **kwargs) -> dict:
        check_runtime(kwargs.get("Runtime"), kwargs.get("PackageType") or "Zip")
        _, name, _ = parse_name(kwargs["FunctionName"])
        code = kwargs["Code"]
        if code.get("ImageUri"):
            check_runtime(None, "Image")
        if not kwargs.get("Handler"):
            raise InvalidFunction("Handler is required for a Zip function")
        sha, size = self._code(name, code.get("ZipFile"), code.get("S3Bucket"), code.get("S3Key"))
        record = FunctionRecord(
            name=name,
            region=self.region,
            runtime=kwargs["Runtime"],
            handler=kwargs["Handler"],
            role=kwargs["Role"],
            code_sha256=sha,
            code_size=size,
            timeout=kwargs.get("Timeout") or 3,
            memory_size=kwargs.get("MemorySize") or 128,
            description=kwargs.get("Description") or "",
            environment=dict((kwargs.get("Environment") or {}).get("Variables") or {}),
            layers=list(kwargs.get("Layers") or []),
            architectures=list(kwargs.get("Architectures") or ["x86_64"]),
            tags=dict(kwargs.get("Tags") or {}),
        )
        return self.functions.create(record).configuration()

    @_errors
    def update_function_code(self, **kwargs) -> dict:
        record = self._record(kwargs["FunctionName"])
        if kwargs.get("ImageUri"):
            check_runtime(None, "Image")
        record.code_sha256, record.code_size = self._code(
            record.name, kwargs.get("ZipFile"), kwargs.get("S3Bucket"), kwargs.get("S3Key")
        )
        return self.functions.update(record).configuration()

    @_errors
    def update_function_configuration(self, **kwargs) -> dict:
        record = self._record(kwargs["FunctionName"])
        for key, attribute in CONFIGURABLE.items():
            if key in kwargs:
                setattr(record, attribute, kwargs[key])
        check_runtime(record.runtime, "Zip")
        if "Environment" in kwargs:
            record.environment = dict((kwargs["Environment"] or {}).get("Variables") or {})
        if "Layers" in kwargs:
            record.layers = list(kwargs["Layers"] or [])
        return self.functions.update(record).configuration()

    @_errors
    def get_function(self, **kwargs) -> dict:
        record = self._record(kwargs["FunctionName"], kwargs.get("Qualifier"))
        response = {
            "Configuration": record.configuration(),
            "Code": {
                "RepositoryType": "S3",
                "Location": self.functions.code_dir(record).as_uri(),
            },
        }
        if record.tags:
            response["Tags"] = dict(record.tags)
        return response

    @_errors
    def get_function_configuration(self, **kwargs) -> dict:
        return self._record(kwargs["FunctionName"], kwargs.get("Qualifier")).configuration()

    @_errors
    def list_functions(self, **kwargs) -> dict:
        records = self.functions.list(self.region)
        start = int(kwargs.get("Marker") or 0)
        end = start + int(kwargs.get("MaxItems") or 50)
        response = {"Functions": [r.configuration() for r in records[start:end]]}
        if end < len(records):
            response["NextMarker"] = str(end)
        return response

    @_errors
    def delete_function(self, **kwargs) -> dict:
        record = self._record(kwargs["FunctionName"], kwargs.get("Qualifier"))
        self.functions.delete(record.region, record.name)
        return {"StatusCode": 204}

    @_errors
    def invoke(self, **kwargs) -> dict:
        """Run the handler: RequestResponse waits for it, Event leaves it in the background."""
        record = self._record(kwargs["FunctionName"], kwargs.get("Qualifier"))
        event = _bytes(kwargs.get("Payload"))
        if event.strip():
            try:
                json.loads(event)
            except ValueError:
                raise _error(
                    "InvalidRequestContentException", "Could not parse request body into json", 400
                ) from None
        kind = kwargs.get("InvocationType") or "RequestResponse"
        if kind == "DryRun":
            return {"StatusCode": 204, "Payload": StreamingBody(io.BytesIO(b""), 0)}
        if kind == "Event":
            threading.Thread(
                target=run_handler, args=(self.functions, record, event), daemon=True
            ).start()
            return {"StatusCode": 202, "Payload": StreamingBody(io.BytesIO(b""), 0)}
        result = run_handler(self.functions, record, event)
        response: dict = {
            "StatusCode": 200,
            "ExecutedVersion": "$LATEST",
            "Payload": StreamingBody(io.BytesIO(result.payload), len(result.payload)),
        }
        if result.failed:
            response["FunctionError"] = "Unhandled"
        if kwargs.get("LogType") == "Tail":
            response["LogResult"] = base64.b64encode(result.log_tail()).decode()
        return response
