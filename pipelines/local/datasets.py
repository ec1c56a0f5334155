"""Public data sets the template's defaults point at, fetched once and checked by sha256.

The template's default ``InputDataUrl`` is an S3 object in an AWS-owned bucket. Locally we
serve the same bytes from their public source (UCI), or from a copy the user names.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional


class DatasetError(RuntimeError):
    """The data set could not be had or did not check out."""


@dataclass(frozen=True)
class PublicDataset:
    name: str
    uri_pattern: re.Pattern
    sha256: str
    size: int
    url: str
    zip_member: Optional[str]
    env_var: str

    def matches(self, uri: str) -> bool:
        return bool(self.uri_pattern.fullmatch(uri))


ABALONE = PublicDataset(
    name="abalone-dataset.csv",
    uri_pattern=re.compile(
        r"s3://sagemaker-servicecatalog-seedcode-[a-z0-9-]+/dataset/abalone-dataset\.csv"
    ),
    sha256="de37cdcdcaaa50c309d514f248f7c2302a5f1f88c168905eba23fe2fbc78449f",
    size=191873,
    url="https://archive.ics.uci.edu/static/public/1/abalone.zip",
    zip_member="abalone.data",
    env_var="ABALONE_DATA",
)
DATASETS = (ABALONE,)


def find(uri: str) -> Optional[PublicDataset]:
    return next((d for d in DATASETS if d.matches(uri)), None)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(dataset: PublicDataset, timeout: float = 30.0) -> bytes:
    with urllib.request.urlopen(dataset.url, timeout=timeout) as response:
        payload = response.read()
    if dataset.zip_member:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            payload = archive.read(dataset.zip_member)
    return payload


def ensure(dataset: PublicDataset, cache_dir: Path) -> Path:
    """The checked local file of a data set: the user's copy, the cache, or a fresh download."""
    supplied = os.environ.get(dataset.env_var)
    if supplied:
        path = Path(supplied).expanduser()
        if not path.is_file():
            raise DatasetError(f"{dataset.env_var}={supplied}: no such file")
        if _sha256(path) != dataset.sha256:
            raise DatasetError(
                f"{dataset.env_var}={supplied}: not the expected {dataset.name} (sha256 differs)"
            )
        return path
    cached = cache_dir / dataset.name
    if cached.is_file() and _sha256(cached) == dataset.sha256:
        return cached
    try:
        payload = _download(dataset)
    except (OSError, zipfile.BadZipFile, KeyError) as err:
        raise DatasetError(
            f"cannot download {dataset.name} from {dataset.url} ({err}); offline, download it "
            f"elsewhere and set {dataset.env_var}=/path/to/{dataset.name}, or pass "
            f'--parameters \'{{"InputDataUrl": "/path/to/{dataset.name}"}}\''
        ) from None
    if hashlib.sha256(payload).hexdigest() != dataset.sha256:
        raise DatasetError(
            f"the download of {dataset.name} from {dataset.url} has an unexpected sha256"
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(payload)
    os.replace(tmp, cached)
    return cached
