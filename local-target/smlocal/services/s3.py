"""S3: buckets are folders of the object store, objects its files (see ``smlocal.store``).

Served as boto3, the S3 transfer manager, the SageMaker SDK and job scripts use S3: objects with
their metadata, ranged and conditional reads, listings (v1 and v2), copies, multipart uploads
and buckets. Every valid bucket name exists -- the user's real buckets do, and we cannot know
them -- so a write to a bucket never created creates its folder. The template's public input
data set is served, read-only, from the package's copy.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import http.client
import io
import json
import re
import shutil
import uuid
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Optional
from urllib.parse import quote, unquote

from botocore.response import StreamingBody
from botocore.utils import parse_timestamp

from smlocal import config, datasets
from smlocal.services.base import Service, ServiceError
from smlocal.store import ObjectInfo, ObjectStore, StoreError, md5_hex, read_chunks

OWNER = {"DisplayName": "local", "ID": hashlib.sha256(config.ACCOUNT_ID.encode()).hexdigest()}
MAX_KEYS = 1000
MIN_PART_SIZE = 5 * 1024 * 1024
_NEW_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_OVERRIDABLE = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage")
_OVERRIDABLE += ("ContentType", "Expires")


def _no_such_key(key: str) -> ServiceError:
    return ServiceError("NoSuchKey", "The specified key does not exist.", 404, {"Key": key})


def _precondition_failed() -> ServiceError:
    message = "At least one of the pre-conditions you specified did not hold"
    return ServiceError("PreconditionFailed", message, 412)


def _time(seconds: float) -> datetime:
    """S3's times are whole seconds, in UTC."""
    return datetime.fromtimestamp(int(seconds), timezone.utc)


class S3Service(Service):
    name = "s3"

    def __init__(self, home: Path, region: str):
        self.region = region
        self.store = ObjectStore(home / "s3")
        self.uploads = self.store.root / ".uploads"  # <upload id>/upload.json and its parts
        self.regions = self.store.root / ".regions"  # <bucket>: a CreateBucket's LocationConstraint

    def call(self, operation: str, params: dict) -> dict:
        try:
            return super().call(operation, params)
        except StoreError as err:
            error = ServiceError("InvalidArgument", str(err), 400)
        except ServiceError as err:
            error = err
        if operation.startswith("Head"):  # a HEAD response has no body: botocore sees the status
            raise ServiceError(str(error.status), http.client.responses[error.status], error.status)
        raise error

    # -- objects

    def get_object(self, Bucket, Key, Range=None, **options) -> dict:  # noqa: N803 - boto3's names
        info, path = self._object(Bucket, Key, **options)
        start, length, response = self._range(info, Range)
        for name in _OVERRIDABLE:  # response-content-type=... and the like (presigned URLs)
            if options.get(f"Response{name}") is not None:
                response[name] = options[f"Response{name}"]
        return {**response, "Body": StreamingBody(_FileSlice(path, start, length), length)}

    def head_object(self, Bucket, Key, Range=None, **options) -> dict:  # noqa: N803
        info, _ = self._object(Bucket, Key, **options)
        return self._range(info, Range)[2]

    def put_object(  # noqa: N803
        self,
        Bucket,
        Key,
        Body=b"",
        ContentType=None,
        Metadata=None,
        IfMatch=None,
        IfNoneMatch=None,
        **_,
    ) -> dict:
        uri = self._writable(Bucket, Key)
        if Key.endswith("/"):
            return self._folder(uri, Body)
        self._check_write(Bucket, Key, IfMatch, IfNoneMatch)
        info = self.store.write(uri, _chunks(Body), ContentType, _lower(Metadata))
        return {"ETag": info.etag}

    def delete_object(self, Bucket, Key, **_) -> dict:  # noqa: N803
        self.store.delete(self._writable(Bucket, Key))
        return {}

    def delete_objects(self, Bucket, Delete, **_) -> dict:  # noqa: N803
        deleted, errors = [], []
        for item in Delete["Objects"]:
            try:
                self.delete_object(Bucket, item["Key"])
                deleted.append({"Key": item["Key"]})
            except StoreError as err:
                errors.append({"Key": item["Key"], "Code": "InvalidArgument", "Message": str(err)})
            except ServiceError as err:
                errors.append({"Key": item["Key"], "Code": err.code, "Message": err.message})
        response = {"Deleted": [] if Delete.get("Quiet") else deleted, "Errors": errors}
        return {name: items for name, items in response.items() if items}

    def copy_object(  # noqa: N803
        self,
        Bucket,
        Key,
        CopySource,
        MetadataDirective="COPY",
        ContentType=None,
        Metadata=None,
        **options,
    ) -> dict:
        source_bucket, source_key = _copy_source(CopySource)
        info, path = self._object(source_bucket, source_key, **_copy_conditions(options))
        uri = self._writable(Bucket, Key)
        self._check_write(Bucket, Key, options.get("IfMatch"), options.get("IfNoneMatch"))
        if MetadataDirective == "REPLACE":
            content_type, metadata = ContentType, _lower(Metadata)
        elif (source_bucket, source_key) == (Bucket, Key):
            raise ServiceError(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes.",
            )
        else:
            content_type, metadata = info.content_type, info.metadata
        with open(path, "rb") as source:
            copied = self.store.write(uri, read_chunks(source), content_type, metadata)
        return {"CopyObjectResult": {"ETag": copied.etag, "LastModified": _time(copied.modified)}}

    # -- listings

    def list_objects_v2(  # noqa: N803
        self,
        Bucket,
        Prefix="",
        Delimiter=None,
        MaxKeys=MAX_KEYS,
        ContinuationToken=None,
        StartAfter=None,
        EncodingType=None,
        FetchOwner=False,
        **_,
    ) -> dict:
        after = _from_token(ContinuationToken) if ContinuationToken else StartAfter or ""
        contents, prefixes, last = self._list(Bucket, Prefix, Delimiter, MaxKeys, after)
        encode = _encoder(EncodingType)
        response = {
            "IsTruncated": last is not None,
            "Contents": [self._summary(*item, encode, FetchOwner) for item in contents],
            "Name": Bucket,
            "Prefix": encode(Prefix),
            "MaxKeys": MaxKeys,
            "CommonPrefixes": [{"Prefix": encode(p)} for p in prefixes],
            "KeyCount": len(contents) + len(prefixes),
            "ContinuationToken": ContinuationToken,
            "NextContinuationToken": _to_token(last) if last else None,
            "StartAfter": encode(StartAfter) if StartAfter is not None else None,
            "Delimiter": encode(Delimiter) if Delimiter else None,
            "EncodingType": EncodingType,
        }
        return _present(response)

    def list_objects(  # noqa: N803
        self, Bucket, Prefix="", Delimiter=None, MaxKeys=MAX_KEYS, Marker="", EncodingType=None, **_
    ) -> dict:
        contents, prefixes, last = self._list(Bucket, Prefix, Delimiter, MaxKeys, Marker)
        encode = _encoder(EncodingType)
        response = {
            "IsTruncated": last is not None,
            "Marker": encode(Marker),
            "NextMarker": encode(last) if last and Delimiter else None,  # as S3: with a delimiter
            "Contents": [self._summary(*item, encode, owner=True) for item in contents],
            "Name": Bucket,
            "Prefix": encode(Prefix),
            "Delimiter": encode(Delimiter) if Delimiter else None,
            "MaxKeys": MaxKeys,
            "CommonPrefixes": [{"Prefix": encode(p)} for p in prefixes],
            "EncodingType": EncodingType,
        }
        return _present(response)

    # -- multipart uploads

    def create_multipart_upload(  # noqa: N803
        self, Bucket, Key, ContentType=None, Metadata=None, **_
    ) -> dict:
        uri = self._writable(Bucket, Key)
        if Key.endswith("/") or self.store.path(uri).is_dir():  # refused now, not at the end
            raise StoreError(f"{uri}: names a folder here (objects are files, keys under it files)")
        upload_id = uuid.uuid4().hex
        folder = self.uploads / upload_id
        folder.mkdir(parents=True)
        record = {
            "Bucket": Bucket,
            "Key": Key,
            "ContentType": ContentType,
            "Metadata": _lower(Metadata),
        }
        (folder / "upload.json").write_text(json.dumps(record))
        return {"Bucket": Bucket, "Key": Key, "UploadId": upload_id}

    def upload_part(self, Bucket, Key, UploadId, PartNumber, Body=b"", **_) -> dict:  # noqa: N803
        return {"ETag": self._put_part(Bucket, Key, UploadId, PartNumber, _chunks(Body))}

    def upload_part_copy(  # noqa: N803
        self, Bucket, Key, UploadId, PartNumber, CopySource, CopySourceRange=None, **options
    ) -> dict:
        info, path = self._object(*_copy_source(CopySource), **_copy_conditions(options))
        start, length, _ = self._range(info, CopySourceRange)
        with _FileSlice(path, start, length) as source:
            etag = self._put_part(Bucket, Key, UploadId, PartNumber, read_chunks(source))
        return {"CopyPartResult": {"ETag": etag, "LastModified": datetime.now(timezone.utc)}}

    def complete_multipart_upload(  # noqa: N803
        self, Bucket, Key, UploadId, MultipartUpload=None, **_
    ) -> dict:
        record, folder = self._upload(Bucket, Key, UploadId)
        given = (MultipartUpload or {}).get("Parts") or []
        if not given:
            raise ServiceError("MalformedXML", "The XML you provided was not well-formed.")
        numbers = [part["PartNumber"] for part in given]
        if numbers != sorted(set(numbers)):
            raise ServiceError("InvalidPartOrder", "The list of parts was not in ascending order.")
        paths = []
        for i, part in enumerate(given):
            path = folder / _part_name(part["PartNumber"], part.get("ETag", "").strip('"'))
            if not path.is_file():
                raise ServiceError(
                    "InvalidPart",
                    "One or more of the specified parts could not be found.",
                    400,
                    {"UploadId": UploadId, "PartNumber": str(part["PartNumber"])},
                )
            if i < len(given) - 1 and path.stat().st_size < MIN_PART_SIZE:
                raise ServiceError(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed object size.",
                )
            paths.append(path)
        digests = b"".join(binascii.unhexlify(p.name.split("-")[1]) for p in paths)
        etag = f'"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(paths)}"'
        uri = f"s3://{Bucket}/{Key}"
        self.store.write(uri, _concatenated(paths), record["ContentType"], record["Metadata"], etag)
        shutil.rmtree(folder, ignore_errors=True)
        location = f"https://{Bucket}.s3.amazonaws.com/{quote(Key)}"
        return {"Location": location, "Bucket": Bucket, "Key": Key, "ETag": etag}

    def abort_multipart_upload(self, Bucket, Key, UploadId, **_) -> dict:  # noqa: N803
        shutil.rmtree(self._upload(Bucket, Key, UploadId)[1], ignore_errors=True)
        return {}

    def list_parts(  # noqa: N803
        self, Bucket, Key, UploadId, MaxParts=1000, PartNumberMarker=0, **_
    ) -> dict:
        folder = self._upload(Bucket, Key, UploadId)[1]
        parts = []
        for path in sorted(folder.glob("[0-9]*-*")):
            number, etag = path.name.split("-")
            if int(number) > int(PartNumberMarker):
                stat = path.stat()
                parts.append(
                    {
                        "PartNumber": int(number),
                        "LastModified": _time(stat.st_mtime),
                        "ETag": f'"{etag}"',
                        "Size": stat.st_size,
                    }
                )
        shown = parts[:MaxParts]
        response = {
            "Bucket": Bucket,
            "Key": Key,
            "UploadId": UploadId,
            "PartNumberMarker": int(PartNumberMarker),
            "MaxParts": MaxParts,
            "IsTruncated": len(parts) > len(shown),
            "Parts": shown,
            "Owner": OWNER,
            "Initiator": OWNER,
            "StorageClass": "STANDARD",
        }
        if response["IsTruncated"]:
            response["NextPartNumberMarker"] = shown[-1]["PartNumber"]
        return response

    # -- buckets

    def create_bucket(self, Bucket, CreateBucketConfiguration=None, **_) -> dict:  # noqa: N803
        if not _NEW_BUCKET_NAME.fullmatch(Bucket) or ".." in Bucket:
            raise ServiceError("InvalidBucketName", "The specified bucket is not valid.", 400)
        self.store.path(f"s3://{Bucket}").mkdir(parents=True, exist_ok=True)
        constraint = (CreateBucketConfiguration or {}).get("LocationConstraint")
        if constraint:
            self.regions.mkdir(parents=True, exist_ok=True)
            (self.regions / Bucket).write_text(constraint)
        return {"Location": f"/{Bucket}"}

    def head_bucket(self, Bucket, **_) -> dict:  # noqa: N803
        self.store.path(f"s3://{Bucket}")  # refuses a name the store cannot hold
        return {"BucketRegion": self._region(Bucket), "AccessPointAlias": False}

    def get_bucket_location(self, Bucket, **_) -> dict:  # noqa: N803
        region = self._region(Bucket)
        return {"LocationConstraint": None if region == "us-east-1" else region}

    def list_buckets(self, **_) -> dict:
        buckets = [
            {
                "Name": name,
                "CreationDate": _time(self.store.path(f"s3://{name}").stat().st_ctime),
                "BucketRegion": self._region(name),
            }
            for name in self.store.buckets()
        ]
        return {"Buckets": buckets, "Owner": OWNER}

    def delete_bucket(self, Bucket, **_) -> dict:  # noqa: N803
        folder = self.store.path(f"s3://{Bucket}")
        if self.store.keys(Bucket):
            raise ServiceError("BucketNotEmpty", "The bucket you tried to delete is not empty", 409)
        if not folder.is_dir():
            raise ServiceError("NoSuchBucket", "The specified bucket does not exist", 404)
        shutil.rmtree(folder)
        (self.regions / Bucket).unlink(missing_ok=True)
        return {}

    # -- helpers

    def _object(self, bucket: str, key: str, **conditions) -> tuple[ObjectInfo, Path]:
        """An object's description and file, checked against the request's conditions."""
        found = self._find(bucket, key)
        if found is None:
            raise _no_such_key(key)
        _check_conditions(found[0], **conditions)
        return found

    def _find(self, bucket: str, key: str) -> Optional[tuple[ObjectInfo, Path]]:
        """From the store, or else from the package's public data sets."""
        uri = f"s3://{bucket}/{key}"
        info = self.store.info(uri)
        if info is not None:
            return info, self.store.path(uri)
        dataset = datasets.find(uri)
        if dataset is None:
            return None
        path = datasets.ensure(dataset)
        return _dataset_info(path), path

    def _range(self, info: ObjectInfo, spec: Optional[str]) -> tuple[int, int, dict]:
        """(start, length, response headers) of a read of the whole object or of a byte range."""
        response = {
            "AcceptRanges": "bytes",
            "LastModified": _time(info.modified),
            "ContentLength": info.size,
            "ETag": info.etag,
            "ContentType": info.content_type,
            "Metadata": info.metadata,
        }
        span = _byte_range(spec, info.size) if spec else None
        if span is None:
            return 0, info.size, response
        start, end = span
        response.update(
            ContentLength=end - start + 1, ContentRange=f"bytes {start}-{end}/{info.size}"
        )
        return start, end - start + 1, response

    @staticmethod
    def _summary(key: str, info: ObjectInfo, encode, owner: bool) -> dict:
        summary = {
            "Key": encode(key),
            "LastModified": _time(info.modified),
            "ETag": info.etag,
            "Size": info.size,
            "StorageClass": "STANDARD",
        }
        return {**summary, "Owner": OWNER} if owner else summary

    def _list(self, bucket, prefix, delimiter, max_keys, after) -> tuple[list, list, Optional[str]]:
        """(key, info)s and common prefixes after ``after``, ``max_keys`` in all; the last if more."""
        keys = self.store.keys(bucket, prefix)
        published = [d.key for d in datasets.in_bucket(bucket) if d.key.startswith(prefix)]
        keys = sorted(set(keys + published)) if published else keys
        contents, prefixes, shown = [], [], None
        for key in keys:
            if key <= after:
                continue
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            common = key[: cut + len(delimiter)] if cut >= 0 else None
            if common is not None and (common <= after or common == shown):
                continue  # its keys were rolled up already, on this page or an earlier one
            if len(contents) + len(prefixes) >= min(max_keys, MAX_KEYS):
                return contents, prefixes, shown
            if common is not None:
                prefixes.append(common)
            else:
                found = self._find(bucket, key)
                if found is None:
                    continue  # deleted while we listed
                contents.append((key, found[0]))
            shown = common or key
        return contents, prefixes, None

    def _writable(self, bucket: str, key: str) -> str:
        uri = f"s3://{bucket}/{key}"
        if datasets.find(uri) is not None:
            raise ServiceError("AccessDenied", f"Access Denied: {uri} is a public data set", 403)
        return uri

    def _check_write(self, bucket, key, if_match: Optional[str], if_none_match: Optional[str]):
        """Conditional writes: ``IfNoneMatch='*'`` creates only; ``IfMatch`` replaces that version."""
        info = self.store.info(f"s3://{bucket}/{key}")
        if if_match is not None and info is None:
            raise _no_such_key(key)
        if (if_none_match == "*" and info is not None) or (
            if_match is not None and not _etag_matches(info.etag, if_match)
        ):
            raise _precondition_failed()

    def _folder(self, uri: str, body) -> dict:
        """A key ending in ``/`` marks a folder (as the S3 console makes): kept as a folder."""
        if any(_chunks(body)):
            raise StoreError(f"{uri}: a key ending in '/' is a folder here and cannot hold bytes")
        self.store.path(uri).mkdir(parents=True, exist_ok=True)
        return {"ETag": f'"{hashlib.md5(b"", usedforsecurity=False).hexdigest()}"'}

    def _upload(self, bucket: str, key: str, upload_id: str) -> tuple[dict, Path]:
        folder = self.uploads / upload_id
        try:
            record = json.loads((folder / "upload.json").read_text())
        except (OSError, ValueError):
            record = None
        if (
            not re.fullmatch(r"[0-9a-f]{32}", upload_id)
            or record is None
            or ((record["Bucket"], record["Key"]) != (bucket, key))
        ):
            raise ServiceError(
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, or the upload "
                "may have been aborted or completed.",
                404,
                {"UploadId": upload_id},
            )
        return record, folder

    def _put_part(self, bucket, key, upload_id, number, chunks) -> str:
        """A part is the file ``<number>-<md5>``: its ETag is in its name, for the completion."""
        folder = self._upload(bucket, key, upload_id)[1]
        if not 1 <= number <= 10000:
            raise ServiceError(
                "InvalidArgument", "Part number must be an integer between 1 and 10000"
            )
        digest = hashlib.md5(usedforsecurity=False)
        tmp = folder / f".tmp-{uuid.uuid4().hex}"
        with open(tmp, "wb") as handle:
            for chunk in chunks:
                digest.update(chunk)
                handle.write(chunk)
        for old in folder.glob(f"{number:05d}-*"):  # a part uploaded again replaces the first
            old.unlink(missing_ok=True)
        tmp.replace(folder / _part_name(number, digest.hexdigest()))
        return f'"{digest.hexdigest()}"'

    def _region(self, bucket: str) -> str:
        try:
            return (self.regions / bucket).read_text()
        except OSError:
            return config.DEFAULT_REGION


class _FileSlice(io.RawIOBase):
    """A byte range of a file, read as it is consumed, so large objects never sit in memory."""

    def __init__(self, path: Path, start: int, length: int):
        self._file = open(path, "rb")
        self._file.seek(start)
        self._left = length

    def readable(self) -> bool:
        return True

    def read(self, size: Optional[int] = -1) -> bytes:
        return super().read(-1 if size is None else size)  # StreamingBody asks with None

    def readinto(self, buffer) -> int:
        if self._left <= 0:
            self._file.close()  # read to the end: let the file go now, not when collected
            return 0
        count = self._file.readinto(memoryview(buffer)[: min(len(buffer), self._left)])
        self._left -= count
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


def _chunks(body):
    """A request body as chunks: boto3 gives bytes, str or any file-like (s3transfer's chunks)."""
    if body is None:
        return iter(())
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(body, (bytes, bytearray)):
        return iter([bytes(body)])
    return read_chunks(body)


def _concatenated(paths: list[Path]):
    for path in paths:
        with open(path, "rb") as source:
            yield from read_chunks(source)


def _part_name(number: int, md5: str) -> str:
    return f"{number:05d}-{md5}"


def _lower(metadata: Optional[dict]) -> dict:
    """S3 keeps user metadata names in lower case (they travel as HTTP headers)."""
    return {name.lower(): value for name, value in (metadata or {}).items()}


def _present(response: dict) -> dict:
    """Drop what S3 would leave out of its XML, which botocore then leaves out of the dict."""
    return {name: value for name, value in response.items() if value not in (None, [])}


def _encoder(encoding_type: Optional[str]):
    """``EncodingType='url'`` (botocore sets it, and decodes): keys percent-encoded, as S3 does."""
    if encoding_type == "url":
        return lambda value: quote(value, safe="/")
    return lambda value: value


def _to_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii")


def _from_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        raise ServiceError(
            "InvalidArgument", "The continuation token provided is incorrect", 400
        ) from None


def _copy_source(source: str) -> tuple[str, str]:
    """(bucket, key) of a CopySource, which botocore sends as ``bucket/quoted-key[?versionId=]``."""
    path, _, query = source.lstrip("/").partition("?")
    version = query.partition("versionId=")[2]
    if version and version != "null":
        raise ServiceError("NoSuchVersion", "The local S3 keeps no object versions.", 404)
    bucket, _, key = unquote(path).partition("/")
    if not bucket or not key:
        raise ServiceError("InvalidArgument", f"Invalid copy source: {source!r}", 400)
    return bucket, key


def _copy_conditions(options: dict) -> dict:
    """CopySourceIf* are If* on the source; their failures are 412s, as S3 answers a copy."""
    names = ("IfMatch", "IfNoneMatch", "IfModifiedSince", "IfUnmodifiedSince")
    return {name: options.get(f"CopySource{name}") for name in names} | {"copy": True}


def _check_conditions(
    info: ObjectInfo,
    IfMatch=None,  # noqa: N803
    IfNoneMatch=None,  # noqa: N803
    IfModifiedSince=None,  # noqa: N803
    IfUnmodifiedSince=None,  # noqa: N803
    copy: bool = False,
    PartNumber=None,  # noqa: N803
    VersionId=None,  # noqa: N803
    **_,
) -> None:
    """Conditional requests, as S3 applies HTTP's rules (RFC 7232 section 6)."""
    if PartNumber is not None:
        raise ServiceError(
            "NotImplemented", "The local S3 does not read objects by PartNumber.", 501
        )
    if VersionId not in (None, "null"):
        raise ServiceError("NoSuchVersion", "The local S3 keeps no object versions.", 404)
    modified = _time(info.modified)
    if IfMatch is not None:
        if not _etag_matches(info.etag, IfMatch):
            raise _precondition_failed()
    elif IfUnmodifiedSince is not None and modified > _as_time(IfUnmodifiedSince):
        raise _precondition_failed()
    if IfNoneMatch is not None:
        unchanged = _etag_matches(info.etag, IfNoneMatch)
    else:
        unchanged = IfModifiedSince is not None and modified <= _as_time(IfModifiedSince)
    if unchanged:
        raise _precondition_failed() if copy else ServiceError("304", "Not Modified", 304)


def _etag_matches(etag: str, condition: str) -> bool:
    wanted = {value.strip().strip('"') for value in condition.split(",")}
    return "*" in wanted or etag.strip('"') in wanted


def _as_time(value) -> datetime:
    """A time condition as the caller gave it: botocore passes on a datetime or a string."""
    parsed = value if isinstance(value, datetime) else parse_timestamp(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _byte_range(spec: str, size: int) -> Optional[tuple[int, int]]:
    """``bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` as (first, last); None for the whole object."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", spec.strip())
    if match is None or match.groups() == ("", ""):
        return None  # S3 ignores a range it cannot read and sends the whole object
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size - 1
        if int(last) == 0:
            start = size  # an empty suffix is unsatisfiable
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
        if last and int(last) < start:
            return None
    if start >= size:
        raise ServiceError(
            "InvalidRange",
            "The requested range is not satisfiable",
            416,
            {"RangeRequested": spec, "ActualObjectSize": str(size)},
        )
    return start, end


@lru_cache(maxsize=None)
def _dataset_info(path: Path) -> ObjectInfo:
    return ObjectInfo(
        size=path.stat().st_size,
        modified=path.stat().st_mtime,
        etag=f'"{md5_hex(path)}"',
        content_type="text/csv",
    )
