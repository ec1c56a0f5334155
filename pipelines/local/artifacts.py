"""Model artifacts packed as SageMaker packs them, but byte-reproducible."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path


def pack_model(model_dir: Path) -> bytes:
    """``model.tar.gz`` of a folder's files, members at the root, with no times or owners.

    Two runs that produce the same model files produce the same bytes.
    """
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(p for p in Path(model_dir).rglob("*") if p.is_file()):
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
