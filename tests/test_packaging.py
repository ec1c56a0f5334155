"""The installed package holds every file the pipelines and the local target need at run time."""

import subprocess
import sys
import zipfile

from tests.helpers import ROOT


def test_wheel_contents(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("pipelines-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "pipelines/abalone/preprocess.py",
        "pipelines/abalone/evaluate.py",
        "pipelines/abalone_sklearn/code/train.py",
        "pipelines/abalone_sklearn/code/inference.py",
        "pipelines/abalone_sklearn/evaluate.py",
        "pipelines/abalone_sklearn/score.py",
        "local-target/smlocal/containers/site/sitecustomize.py",
        "local-target/smlocal/containers/forkserver.py",
    ):
        assert required in names, required
    assert not any(name.startswith("tests/") for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    for script in ("run-pipeline", "get-pipeline-definition", "model-registry"):
        assert f"{script} = " in text
