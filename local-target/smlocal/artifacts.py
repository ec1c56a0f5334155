"""Model artifacts packed as SageMaker packs them, but byte-reproducible."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from smlocal.errors import UserDataError


class UnpackError(UserDataError):
    """An archive of the user's that cannot be unpacked as given (unreadable, or leading out)."""


def pack_model(model_dir: Path) -> bytes:
    """``model.tar.gz`` of a folder's files, members at the root, with no times or owners.

    Two runs that produce the same model files produce the same bytes.
    """
    return pack_folder(model_dir)


def pack_folder(folder: Path) -> bytes:
    """A reproducible ``.tar.gz`` of a folder's files (``__pycache__`` left out)."""
    model_dir = folder
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        files = (
            p for p in Path(model_dir).rglob("*") if p.is_file() and "__pycache__" not in p.parts
        )
        for path in sorted(files):
            info = tarfile.TarInfo(path.relative_to(model_dir).as_posix())
            info.size = path.stat().st_size
            info.mtime = 0
            info.mode = 0o644
            with open(path, "rb") as handle:
                tar.addfile(info, handle)
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def unpack(archive: Path, dest: Path) -> None:
    """Extract a (possibly gzipped) tar, refusing members that would land outside ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, filter="data")
            else:  # Python without extraction filters: check paths ourselves
                root = dest.resolve()
                for member in tar.getmembers():
                    target = (dest / member.name).resolve()
                    if root != target and root not in target.parents:
                        raise UnpackError(
                            f"{archive.name}: member {member.name!r} escapes the folder"
                        )
                tar.extractall(dest)
    except tarfile.TarError as err:  # a filter's refusal (a member leading out), or not a tar
        raise UnpackError(f"{archive.name} cannot be unpacked: {err}") from None
