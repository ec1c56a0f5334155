"""Scripts with hard-coded /opt/ml paths run unmodified against a folder of their own."""

import json
import textwrap

from smlocal.containers.remap import PathMap
from tests.helpers import run_in_container

SCRIPT = """
import glob, json, os, pathlib, shutil, tarfile
import numpy as np
import pandas as pd

base = "/opt/ml/processing"
os.makedirs(f"{base}/output/sub", exist_ok=True)
pd.DataFrame({"a": [1, 2]}).to_csv(f"{base}/output/frame.csv", index=False)
np.savetxt(f"{base}/output/array.txt", np.arange(3))
pathlib.Path(f"{base}/output/sub/p.txt").write_text("pathlib")
shutil.copy(f"{base}/input/in.txt", f"{base}/output/copied.txt")
with tarfile.open(f"{base}/output/model.tar.gz", "w:gz") as tar:
    tar.add(f"{base}/input/in.txt", arcname="in.txt")
os.rename(f"{base}/output/copied.txt", f"{base}/output/renamed.txt")
report = {
    "exists": os.path.exists(f"{base}/input/in.txt"),
    "isdir": os.path.isdir(f"{base}/output"),
    "listdir": sorted(os.listdir(f"{base}/output")),
    "glob": sorted(os.path.basename(p) for p in glob.glob(f"{base}/output/*.txt")),
    "walk": sorted(f for _, _, files in os.walk(f"{base}/output") for f in files),
    "read": open(f"{base}/input/in.txt").read(),
    "frame": pd.read_csv(f"{base}/output/frame.csv")["a"].tolist(),
    "file": __file__,
}
json.dump(report, open(f"{base}/output/report.json", "w"))
"""


def test_path_map_rewrites_prefixes_only():
    remap = PathMap({"/opt/ml": "/tmp/job/opt/ml"})
    assert remap("/opt/ml/processing/x") == "/tmp/job/opt/ml/processing/x"
    assert remap("/opt/ml") == "/tmp/job/opt/ml"
    assert remap("/opt/mlx/y") == "/opt/mlx/y"
    assert remap(b"/opt/ml/a") == b"/tmp/job/opt/ml/a"
    assert remap("relative/opt/ml") == "relative/opt/ml"
    assert remap(3) == 3


def test_an_unmodified_container_script_uses_its_own_folder(tmp_path):
    root = tmp_path / "job" / "opt" / "ml"
    (root / "processing" / "input").mkdir(parents=True)
    (root / "processing" / "input" / "in.txt").write_text("input data")
    (root / "processing" / "input" / "code").mkdir()
    (root / "processing" / "input" / "code" / "script.py").write_text(textwrap.dedent(SCRIPT))
    result = run_in_container(root, "/opt/ml/processing/input/code/script.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((root / "processing" / "output" / "report.json").read_text())
    assert report["exists"] and report["isdir"]
    assert report["read"] == "input data"
    assert report["frame"] == [1, 2]
    assert report["listdir"] == ["array.txt", "frame.csv", "model.tar.gz", "renamed.txt", "sub"]
    assert report["glob"] == ["array.txt", "renamed.txt"]
    assert "p.txt" in report["walk"]
    assert (root / "processing" / "output" / "sub" / "p.txt").read_text() == "pathlib"


def test_child_python_processes_inherit_the_map(tmp_path):
    root = tmp_path / "opt" / "ml"
    (root / "code").mkdir(parents=True)
    (root / "code" / "parent.py").write_text(textwrap.dedent("""
        import subprocess, sys
        code = "open('/opt/ml/child.txt', 'w').write('child')"
        subprocess.run([sys.executable, "-c", code], check=True)
    """))
    result = run_in_container(root, "/opt/ml/code/parent.py")
    assert result.returncode == 0, result.stderr
    assert (root / "child.txt").read_text() == "child"


def test_tar_extraction_lands_in_the_mapped_folder(tmp_path):
    import io
    import tarfile

    root = tmp_path / "opt" / "ml"
    (root / "code").mkdir(parents=True)
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.joblib")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"model"))
    (root / "model.tar.gz").write_bytes(payload.getvalue())
    (root / "code" / "extract.py").write_text(
        "import tarfile\n"
        "with tarfile.open('/opt/ml/model.tar.gz') as tar:\n"
        "    tar.extractall('/opt/ml/extracted', filter='data')\n"
        "print(open('/opt/ml/extracted/model.joblib').read())\n"
    )
    result = run_in_container(root, "/opt/ml/code/extract.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "model"
    assert (root / "extracted" / "model.joblib").read_bytes() == b"model"
