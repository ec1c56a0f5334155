"""A PipelineSession bound to the local target.

As the SDK's own local mode does, the session keeps the SDK unaware of where it runs: its
``sagemaker_client`` is a local implementation of the SageMaker API, and its S3 uploads go to
the local object store. Unlike the SDK's local mode it keeps ``local_mode`` False, so the SDK
sends the boto3-shaped requests (definition JSON included) that SageMaker would receive.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import boto3
from sagemaker.workflow.pipeline_context import PipelineSession

from pipelines import _sdk
from pipelines.local import config
from pipelines.local.s3 import LocalS3Client, LocalS3Resource
from pipelines.local.store import ObjectStore

# Defaults for the SDK, given directly so no config file (nor S3) is read and no telemetry sent.
LOCAL_SDK_CONFIG = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


class LocalBotoSession(boto3.Session):
    """A boto3 session whose S3 and SageMaker are local; it never looks for credentials.

    The SDK creates some clients from the session itself (e.g. to upload framework code).
    """

    def __init__(self, region: str, store: ObjectStore, sagemaker_client):
        super().__init__(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=region
        )
        self._local_clients = {"s3": LocalS3Client(store), "sagemaker": sagemaker_client}
        self._s3_resource = LocalS3Resource(store)

    def client(self, service_name, *args, **kwargs):
        if service_name in self._local_clients:
            return self._local_clients[service_name]
        return super().client(service_name, *args, **kwargs)

    def resource(self, service_name, *args, **kwargs):
        if service_name == "s3":
            return self._s3_resource
        return super().resource(service_name, *args, **kwargs)


class LocalPipelineSession(PipelineSession):
    """PipelineSession whose SageMaker API and S3 are the local target's."""

    def __init__(
        self,
        region: Optional[str] = None,
        default_bucket: Optional[str] = None,
        home: Optional[Path] = None,
    ):
        # Imported here: the client pulls in the engine, which a definition-only run never needs.
        from pipelines.local.client import LocalSageMakerClient

        _sdk.validate_config_once()
        region = region or os.environ.get("AWS_DEFAULT_REGION") or config.DEFAULT_REGION
        self.local_home = Path(home) if home else config.home()
        self.object_store = ObjectStore(self.local_home / "s3")
        client = LocalSageMakerClient(region=region, home=self.local_home)
        super().__init__(
            boto_session=LocalBotoSession(region, self.object_store, client),
            sagemaker_client=client,
            default_bucket=default_bucket or config.default_bucket(region),
            sagemaker_config=LOCAL_SDK_CONFIG,
        )

    def default_bucket(self) -> str:
        """The bucket name, without SageMaker's STS lookup and bucket creation."""
        return self._default_bucket_name_override

    def _get_account_id_if_default_bucket(self, bucket):  # noqa: D401 - SDK hook
        return None

    def upload_data(self, path, bucket=None, key_prefix="data", callback=None, extra_args=None):
        """Upload a file or folder to the local object store; same URIs as the SDK returns."""
        bucket = bucket or self.default_bucket()
        key_prefix = key_prefix.strip("/")
        if self.default_bucket_prefix and bucket == self.default_bucket():
            key_prefix = f"{self.default_bucket_prefix.strip('/')}/{key_prefix}"
        path = Path(path)
        prefix_uri = f"s3://{bucket}/{key_prefix}"
        if path.is_dir():
            self.object_store.upload_folder(path, prefix_uri)
            return prefix_uri
        uri = f"{prefix_uri}/{path.name}"
        self.object_store.put_file(uri, path)
        return uri

    def upload_string_as_file_body(self, body, bucket, key, kms_key=None):
        """Write a string object to the local object store."""
        uri = f"s3://{bucket}/{key}"
        self.object_store.put_bytes(uri, body.encode("utf-8"))
        return uri

    def read_s3_file(self, bucket, key_prefix):
        """Read an object of the local object store as text."""
        return self.object_store.get_bytes(f"s3://{bucket}/{key_prefix}").decode("utf-8")
