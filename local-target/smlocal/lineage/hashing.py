"""Content hashes of what a URI names, so an artifact is one URI with one content.

An object hashes to the sha256 of its bytes; a prefix (a folder of objects) to the sha256 of
its files' relative paths and hashes, so the same tree hashes alike wherever it is. The
template's public data set hashes to its known sha256 without being read.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Optional
from urllib.parse import unquote, urlparse

from smlocal import datasets
from smlocal.store import ObjectStore, StoreError

LIMIT_BYTES = 4 * 1024**3  # beyond this a URI is recorded without a hash (too long to read)


def _file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _tree(files: Iterable[tuple[str, Path]]) -> Optional[str]:
    entries = sorted(files)
    if not entries or sum(p.stat().st_size for _, p in entries) > LIMIT_BYTES:
        return None
    digest = hashlib.sha256()
    for relative, path in entries:
        digest.update(f"{relative}\0{_file(path)}\n".encode())
    return digest.hexdigest()


def _path_hash(path: Path) -> Optional[str]:
    if path.is_file():
        return _file(path) if path.stat().st_size <= LIMIT_BYTES else None
    if path.is_dir():
        return _tree((p.relative_to(path).as_posix(), p) for p in path.rglob("*") if p.is_file())
    return None


def content_hash(uri: str, store: ObjectStore) -> Optional[str]:
    """``sha256:<hex>`` of what ``uri`` names now, or None (missing, remote, too large)."""
    digest = None
    if isinstance(uri, str) and uri.startswith("s3://"):
        try:
            path = store.path(uri)
            if path.is_file():
                digest = _path_hash(path)
            else:
                prefix = uri.rstrip("/") + "/"
                digest = _tree((found[len(prefix) :], local) for found, local in store.list(prefix))
        except (StoreError, OSError):
            digest = None
        if digest is None:
            dataset = datasets.find(uri)
            digest = dataset.sha256 if dataset else None
    elif isinstance(uri, str) and urlparse(uri).scheme in ("", "file"):
        parsed = urlparse(uri)
        digest = _path_hash(Path(unquote(parsed.path) if parsed.scheme else uri).expanduser())
    return f"sha256:{digest}" if digest else None
