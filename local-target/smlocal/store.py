"""The local object store: ``s3://bucket/key`` is the file ``<root>/bucket/key``.

Objects are plain files so users can look at them; a "prefix" is a folder. Keys that
would resolve outside the store are refused, since keys come from definitions and scripts.
What a file cannot hold (ETag, content type, user metadata) is in a sidecar under
``<root>/.meta``, beside the buckets, where no listing of a bucket sees it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, Optional
from urllib.parse import urlparse

from smlocal.errors import UserDataError

DEFAULT_CONTENT_TYPE = "binary/octet-stream"  # what S3 says of an object stored without one
META_DIR = ".meta"
_CHUNK = 1 << 20


class StoreError(UserDataError, ValueError):
    """A URI the store cannot accept."""


@dataclass(frozen=True)
class ObjectInfo:
    """What S3 tells of an object besides its bytes."""

    size: int
    modified: float
    etag: str  # quoted, as S3 sends it
    content_type: str = DEFAULT_CONTENT_TYPE
    metadata: dict = field(default_factory=dict)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> (``bucket``, ``a/b``), refusing anything but s3 URIs."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise StoreError(f"not an s3:// URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def check_uri(uri: str) -> tuple[str, list[str]]:
    """(bucket, key's parts) of a URI the store can hold: no way out of it, no NUL byte.

    Needs no store: a job's output URIs are checked with it before the job runs.
    """
    if not isinstance(uri, str):
        raise StoreError(f"not an s3:// URI: {uri!r}")
    if "\0" in uri:
        raise StoreError(f"a NUL byte cannot be part of a bucket or key: {uri!r}")
    bucket, key = split_s3_uri(uri)
    if bucket.startswith(".") or "/" in bucket or "\\" in bucket:
        raise StoreError(f"invalid bucket name in {uri!r}")
    parts = [p for p in key.split("/") if p]
    if any(p in (".", "..") for p in parts) or key.startswith("/"):
        raise StoreError(f"key escapes the object store: {uri!r}")
    return bucket, parts


def read_chunks(source: BinaryIO) -> Iterator[bytes]:
    """A file's bytes in blocks, so an object of any size never has to fit in memory."""
    return iter(lambda: source.read(_CHUNK), b"")


def md5_hex(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as source:
        for chunk in read_chunks(source):
            digest.update(chunk)
    return digest.hexdigest()


class ObjectStore:
    """A folder that mirrors S3 buckets."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def path(self, uri: str) -> Path:
        """The local path of an object or prefix; refuses keys that escape the store."""
        bucket, parts = check_uri(uri)
        path = self.root.joinpath(bucket, *parts)
        resolved = path.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise StoreError(f"key escapes the object store: {uri!r}")
        return path

    def exists(self, uri: str) -> bool:
        return self.path(uri).exists()

    def put_bytes(self, uri: str, body: bytes) -> str:
        """Write atomically, so a reader never sees half an object."""
        self.write(uri, [body])
        return uri

    def put_file(self, uri: str, source: Path) -> str:
        with open(source, "rb") as handle:
            self.write(uri, read_chunks(handle))
        return uri

    def write(
        self,
        uri: str,
        chunks: Iterable[bytes],
        content_type: Optional[str] = None,
        metadata: Optional[dict] = None,
        etag: Optional[str] = None,
    ) -> ObjectInfo:
        """Write an object atomically with its sidecar; ``etag`` overrides the MD5 (multipart)."""
        target = self.path(uri)
        key = split_s3_uri(uri)[1]
        if not key.strip("/") or key.endswith("/") or target.is_dir():
            raise StoreError(f"{uri}: names a folder here (objects are files, keys under it files)")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise StoreError(f"{uri}: a parent of this key is an object (objects are files here)")
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            digest = hashlib.md5(usedforsecurity=False)
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    digest.update(chunk)
                    handle.write(chunk)
            stat = os.stat(tmp)
            info = ObjectInfo(
                size=stat.st_size,
                modified=stat.st_mtime,
                etag=etag or f'"{digest.hexdigest()}"',
                content_type=content_type or DEFAULT_CONTENT_TYPE,
                metadata=dict(metadata or {}),
            )
            # The sidecar first: a reader in between sees it disagree with the old file, not lie.
            self._write_sidecar(target, info, stat.st_mtime_ns)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return info

    def info(self, uri: str) -> Optional[ObjectInfo]:
        """An object's size, time, ETag and metadata; None if there is no such object."""
        path = self.path(uri)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not path.is_file():
            return None
        try:
            kept = json.loads(self._sidecar(path).read_text())
            if (kept["size"], kept["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns):
                return ObjectInfo(
                    stat.st_size,
                    stat.st_mtime,
                    kept["etag"],
                    kept["content_type"],
                    kept["metadata"],
                )
        except (OSError, ValueError, KeyError):
            pass
        # Put there by hand, or changed since: ETag from the bytes, no metadata; kept for next time.
        info = ObjectInfo(stat.st_size, stat.st_mtime, f'"{md5_hex(path)}"')
        try:
            self._write_sidecar(path, info, stat.st_mtime_ns)
        except OSError:
            pass
        return info

    def delete(self, uri: str) -> bool:
        """Remove an object and the folders it leaves empty (S3 has no folders to keep)."""
        path = self.path(uri)
        if not path.is_file():
            return False
        path.unlink(missing_ok=True)
        self._sidecar(path).unlink(missing_ok=True)
        bucket_dir = self.root / split_s3_uri(uri)[0]
        for parent in path.parents:
            if parent == bucket_dir:
                break
            try:
                parent.rmdir()
            except OSError:
                break
        return True

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """The keys of a bucket that start with ``prefix``, sorted as S3 sorts them (as strings)."""
        bucket_dir = self.path(f"s3://{bucket}")
        folder, _, partial = prefix.rpartition("/")
        base = self.path(f"s3://{bucket}/{folder}")
        found = []
        for dirpath, dirnames, filenames in os.walk(base):
            rel = Path(dirpath).relative_to(bucket_dir).as_posix()
            if dirpath == str(base):  # only the folders the prefix's last part can lead into
                dirnames[:] = [d for d in dirnames if d.startswith(partial)]
            for name in filenames:
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix) and not name.startswith(".tmp-"):
                    found.append(key)
        return sorted(found)

    def buckets(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and p.name[0] != ".")

    def _sidecar(self, path: Path) -> Path:
        """Named by a hash of the key, so sidecars never collide the way files and folders do."""
        bucket, *key = path.relative_to(self.root).parts
        name = hashlib.sha256("/".join(key).encode()).hexdigest()
        return self.root / META_DIR / bucket / name[:2] / f"{name}.json"

    def _write_sidecar(self, path: Path, info: ObjectInfo, mtime_ns: int) -> None:
        sidecar = self._sidecar(path)
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=sidecar.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as handle:
            json.dump(
                {
                    "size": info.size,
                    "mtime_ns": mtime_ns,
                    "etag": info.etag,
                    "content_type": info.content_type,
                    "metadata": info.metadata,
                },
                handle,
            )
        os.replace(tmp, sidecar)

    def get_bytes(self, uri: str) -> bytes:
        path = self.path(uri)
        if not path.is_file():
            raise StoreError(f"no such object: {uri}")
        return path.read_bytes()

    def list(self, prefix_uri: str) -> Iterator[tuple[str, Path]]:
        """(uri, path) of every object under a prefix, as S3 lists keys: by string prefix."""
        bucket, key = split_s3_uri(prefix_uri)
        bucket_dir = self.path(f"s3://{bucket}")
        for found in self.keys(bucket, key):
            yield f"s3://{bucket}/{found}", bucket_dir / found

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
