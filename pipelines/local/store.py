"""The local object store: ``s3://bucket/key`` is the file ``<root>/bucket/key``.

Objects are plain files so users can look at them; a "prefix" is a folder. Keys that
would resolve outside the store are refused, since keys come from definitions and scripts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse


class StoreError(ValueError):
    """A URI the store cannot accept."""


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> (``bucket``, ``a/b``), refusing anything but s3 URIs."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise StoreError(f"not an s3:// URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


class ObjectStore:
    """A folder that mirrors S3 buckets."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def path(self, uri: str) -> Path:
        """The local path of an object or prefix; refuses keys that escape the store."""
        bucket, key = split_s3_uri(uri)
        if bucket in (".", "..") or "/" in bucket or "\\" in bucket:
            raise StoreError(f"invalid bucket name in {uri!r}")
        parts = [p for p in key.split("/") if p]
        if any(p in (".", "..") for p in parts) or key.startswith("/"):
            raise StoreError(f"key escapes the object store: {uri!r}")
        path = self.root.joinpath(bucket, *parts)
        resolved = path.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise StoreError(f"key escapes the object store: {uri!r}")
        return path

    def exists(self, uri: str) -> bool:
        return self.path(uri).exists()

    def put_bytes(self, uri: str, body: bytes) -> str:
        """Write atomically, so a reader never sees half an object."""
        target = self.path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        os.replace(tmp, target)
        return uri

    def put_file(self, uri: str, source: Path) -> str:
        target = self.path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        os.close(fd)
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        return uri

    def get_bytes(self, uri: str) -> bytes:
        path = self.path(uri)
        if not path.is_file():
            raise StoreError(f"no such object: {uri}")
        return path.read_bytes()

    def list(self, prefix_uri: str) -> Iterator[tuple[str, Path]]:
        """(uri, path) of every object under a prefix, as S3 lists keys: by string prefix."""
        bucket, key = split_s3_uri(prefix_uri)
        base = self.path(
            f"s3://{bucket}/{key.rsplit('/', 1)[0]}" if "/" in key else f"s3://{bucket}"
        )
        if not base.exists():
            return
        for path in sorted(
            p for p in base.rglob("*") if p.is_file() and not p.name.startswith(".tmp-")
        ):
            rel = path.relative_to(self.root / bucket).as_posix()
            if rel.startswith(key):
                yield f"s3://{bucket}/{rel}", path

    def download_prefix(self, prefix_uri: str, dest: Path) -> int:
        """Copy objects under a prefix into ``dest`` as a ProcessingInput/channel would (S3Prefix).

        A URI naming one object copies that object; a folder-like prefix copies its tree.
        Returns the number of files copied.
        """
        dest.mkdir(parents=True, exist_ok=True)
        single = self.path(prefix_uri)
        if single.is_file():
            shutil.copyfile(single, dest / single.name)
            return 1
        key_prefix = split_s3_uri(prefix_uri)[1].rstrip("/")
        count = 0
        for uri, path in self.list(prefix_uri.rstrip("/") + "/"):
            rel = split_s3_uri(uri)[1][len(key_prefix) :].lstrip("/")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            count += 1
        return count

    def upload_folder(self, source: Path, prefix_uri: str) -> int:
        """Copy a folder's files under a prefix (a ProcessingOutput's upload)."""
        count = 0
        prefix = prefix_uri.rstrip("/")
        for path in sorted(p for p in Path(source).rglob("*") if p.is_file()):
            self.put_file(f"{prefix}/{path.relative_to(source).as_posix()}", path)
            count += 1
        return count
