"""Public data sets the template's defaults point at, shipped with the package.

The template's default ``InputDataUrl`` is an object in an AWS-owned bucket. The local S3
answers for it from a copy in ``smlocal/data`` (checked by sha256), so a fresh machine with no
network runs the template as it is.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

DATA_DIR = Path(__file__).resolve().parent / "data"


class DatasetError(RuntimeError):
    """The packaged copy is missing or altered: the installation is broken."""


@dataclass(frozen=True)
class PublicDataset:
    """An object of public buckets (one per region), and the packaged copy of its bytes."""

    name: str
    bucket_pattern: re.Pattern
    key: str
    sha256: str
    size: int

    def matches(self, uri: str) -> bool:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return uri.startswith("s3://") and key == self.key and self.in_bucket(bucket)

    def in_bucket(self, bucket: str) -> bool:
        return bool(self.bucket_pattern.fullmatch(bucket))

    @property
    def path(self) -> Path:
        return DATA_DIR / self.name


ABALONE = PublicDataset(
    name="abalone-dataset.csv",
    bucket_pattern=re.compile(r"sagemaker-servicecatalog-seedcode-[a-z0-9-]+"),
    key="dataset/abalone-dataset.csv",
    sha256="de37cdcdcaaa50c309d514f248f7c2302a5f1f88c168905eba23fe2fbc78449f",
    size=191873,
)
DATASETS = (ABALONE,)


def find(uri: str) -> Optional[PublicDataset]:
    """The data set an ``s3://`` URI names, if any."""
    return next((d for d in DATASETS if d.matches(uri)), None)


def in_bucket(bucket: str) -> list[PublicDataset]:
    """The data sets a public bucket holds, for listings of that bucket."""
    return [d for d in DATASETS if d.in_bucket(bucket)]


def ensure(dataset: PublicDataset, cache_dir: Optional[Path] = None) -> Path:
    """The packaged file of a data set, checked (``cache_dir`` is unused: nothing is downloaded)."""
    path = dataset.path
    if not path.is_file():
        raise DatasetError(f"{path}: missing from the installed package; reinstall smlocal")
    if hashlib.sha256(path.read_bytes()).hexdigest() != dataset.sha256:
        raise DatasetError(f"{path}: not the expected {dataset.name} (sha256 differs)")
    return path
