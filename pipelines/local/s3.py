"""The S3 calls the SDK makes, served by the local object store.

The SDK uploads framework code (``sourcedir.tar.gz``) and reads reports through
``session.s3_resource`` and ``session.s3_client`` rather than through the session's own
methods; these objects answer those calls with boto3's names and shapes.
"""

from __future__ import annotations

import io
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from pipelines.local.store import ObjectStore


def _uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


class LocalS3Client:
    def __init__(self, store: ObjectStore):
        self.store = store

    def upload_file(
        self, Filename, Bucket, Key, ExtraArgs=None, Callback=None, Config=None
    ):  # noqa: N803
        self.store.put_file(_uri(Bucket, Key), Path(Filename))

    def download_file(
        self, Bucket, Key, Filename, ExtraArgs=None, Callback=None, Config=None
    ):  # noqa: N803
        shutil.copyfile(self.store.path(_uri(Bucket, Key)), Filename)

    def put_object(self, Bucket, Key, Body=b"", **_):  # noqa: N803
        data = (
            Body.encode()
            if isinstance(Body, str)
            else (Body.read() if hasattr(Body, "read") else Body)
        )
        self.store.put_bytes(_uri(Bucket, Key), data)
        return {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def get_object(self, Bucket, Key, **_):  # noqa: N803
        data = self.store.get_bytes(_uri(Bucket, Key))
        return {"Body": io.BytesIO(data), "ContentLength": len(data)}

    def head_object(self, Bucket, Key, **_):  # noqa: N803
        path = self.store.path(_uri(Bucket, Key))
        if not path.is_file():
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        stat = path.stat()
        return {
            "ContentLength": stat.st_size,
            "LastModified": datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc),
        }

    def list_objects_v2(self, Bucket, Prefix="", **_):  # noqa: N803
        contents = [
            {"Key": uri[len(f"s3://{Bucket}/") :], "Size": path.stat().st_size}
            for uri, path in self.store.list(_uri(Bucket, Prefix))
        ]
        return {"Contents": contents, "KeyCount": len(contents), "IsTruncated": False}


class _Object:
    def __init__(self, client: LocalS3Client, bucket: str, key: str):
        self.client, self.bucket_name, self.key = client, bucket, key

    def upload_file(self, Filename, ExtraArgs=None, Callback=None, Config=None):  # noqa: N803
        self.client.upload_file(Filename, self.bucket_name, self.key)

    def download_file(self, Filename, ExtraArgs=None, Callback=None, Config=None):  # noqa: N803
        self.client.download_file(self.bucket_name, self.key, Filename)

    def put(self, Body=b"", **kwargs):  # noqa: N803
        return self.client.put_object(Bucket=self.bucket_name, Key=self.key, Body=Body)

    def get(self, **_):
        return self.client.get_object(Bucket=self.bucket_name, Key=self.key)


class _ObjectSummary:
    def __init__(self, bucket: str, key: str, size: int):
        self.bucket_name, self.key, self.size = bucket, key, size


class _Objects:
    def __init__(self, client: LocalS3Client, bucket: str):
        self.client, self.bucket = client, bucket

    def filter(self, Prefix="", **_) -> Iterator[_ObjectSummary]:  # noqa: N803
        for item in self.client.list_objects_v2(Bucket=self.bucket, Prefix=Prefix)["Contents"]:
            yield _ObjectSummary(self.bucket, item["Key"], item["Size"])

    def all(self):
        return self.filter()


class _Bucket:
    def __init__(self, client: LocalS3Client, name: str):
        self.name = name
        self.objects = _Objects(client, name)


class _Meta:
    def __init__(self, client):
        self.client = client


class LocalS3Resource:
    def __init__(self, store: ObjectStore):
        self.meta = _Meta(LocalS3Client(store))

    def Object(self, bucket_name, key):  # noqa: N802 - boto3's name
        return _Object(self.meta.client, bucket_name, key)

    def Bucket(self, name):  # noqa: N802 - boto3's name
        return _Bucket(self.meta.client, name)
