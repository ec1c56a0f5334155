"""Where a step's input URIs point: the object store, a local file, or a public data set."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

from smlocal import datasets
from smlocal.errors import StepFailed
from smlocal.store import ObjectStore, StoreError

# A full, read-only or failing disk here: this machine's fault, not the input's.
MACHINE_FAULTS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO)


class DataSources:
    """Copies inputs into a step's folders, whatever their scheme."""

    def __init__(self, store: ObjectStore, cache_dir: Path):
        self.store = store
        self.cache_dir = cache_dir

    def fetch(self, uri: str, dest: Path) -> int:
        """Copy an input (object, prefix, file or folder) into ``dest``; the number of files.

        An input that cannot be read is the user's to fix (ClientError); a full or failing
        disk of this machine's is not, and goes on as the error it is.
        """
        if not isinstance(uri, str) or not uri:
            raise StepFailed(f"ClientError: input URI must be a non-empty string, got {uri!r}")
        try:
            return self._fetch(uri, dest)
        except shutil.Error as err:  # copytree's: every file it could not copy
            problems = err.args[0] if err.args and isinstance(err.args[0], list) else [err]
            raise StepFailed(f"ClientError: input {uri!r} cannot be read: {problems[0]}") from None
        except OSError as err:
            if err.errno in MACHINE_FAULTS:
                raise
            raise StepFailed(f"ClientError: input {uri!r} cannot be read: {err}") from None

    def _fetch(self, uri: str, dest: Path) -> int:
        parsed = urlparse(uri)
        if parsed.scheme == "s3":
            return self._fetch_s3(uri, dest)
        if parsed.scheme in ("", "file"):
            return self._fetch_local(
                Path(unquote(parsed.path) if parsed.scheme else uri).expanduser(), uri, dest
            )
        raise StepFailed(f"ClientError: unsupported input URI scheme {parsed.scheme!r} in {uri!r}")

    def _fetch_s3(self, uri: str, dest: Path) -> int:
        try:
            if not self.store.exists(uri):
                dataset = datasets.find(uri)
                if dataset is not None:
                    try:
                        local = datasets.ensure(dataset, self.cache_dir)
                    except datasets.DatasetError as err:
                        raise StepFailed(f"ClientError: {err}") from None
                    return self._fetch_local(local, uri, dest)
            count = self.store.download_prefix(uri, dest)
        except StoreError as err:
            raise StepFailed(f"ClientError: {err}") from None
        if count == 0:
            raise StepFailed(f"ClientError: no objects at {uri} in the local object store")
        return count

    @staticmethod
    def _fetch_local(path: Path, uri: str, dest: Path) -> int:
        dest.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            shutil.copyfile(path, dest / path.name)
            return 1
        if path.is_dir():
            shutil.copytree(path, dest, dirs_exist_ok=True)
            return sum(1 for p in dest.rglob("*") if p.is_file())
        raise StepFailed(f"ClientError: input {uri!r}: no such file or folder")
