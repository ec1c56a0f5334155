"""The two distributions hold what they need at run time, and only that."""

import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.helpers import ROOT


def build_wheel(source, folder):
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
            str(folder),
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = folder.glob("*.whl")
    return zipfile.ZipFile(wheel)


def metadata(wheel, name):
    return wheel.read(
        next(n for n in wheel.namelist() if n.endswith(f".dist-info/{name}"))
    ).decode()


@pytest.fixture(scope="module")
def template_wheel(tmp_path_factory):
    return build_wheel(ROOT, tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="module")
def local_target_wheel(tmp_path_factory):
    source = tmp_path_factory.mktemp("source") / "local-target"
    shutil.copytree(
        ROOT / "local-target", source, ignore=shutil.ignore_patterns("build", "*.egg-info")
    )
    return build_wheel(source, tmp_path_factory.mktemp("local-target"))


def test_template_wheel(template_wheel):
    names = set(template_wheel.namelist())
    for required in (
        "pipelines/abalone/preprocess.py",
        "pipelines/abalone/evaluate.py",
        "pipelines/abalone_sklearn/code/train.py",
        "pipelines/abalone_sklearn/code/inference.py",
        "pipelines/abalone_sklearn/evaluate.py",
        "pipelines/abalone_sklearn/score.py",
    ):
        assert required in names, required
    assert not any(name.startswith(("tests/", "smlocal")) for name in names)
    text = metadata(template_wheel, "entry_points.txt")
    for script in ("run-pipeline", "get-pipeline-definition", "model-registry"):
        assert f"{script} = " in text
    requirements = [
        line
        for line in metadata(template_wheel, "METADATA").splitlines()
        if "Requires-Dist" in line
    ]
    local = next(line for line in requirements if "smlocal" in line)
    assert (ROOT / "local-target").as_uri() in local


def test_local_target_wheel_stands_alone(local_target_wheel):
    names = set(local_target_wheel.namelist())
    for required in (
        "smlocal.pth",  # at the top: site-packages itself, read at every interpreter start
        "smlocal/boundary.py",
        "smlocal/services/s3.py",
        "smlocal/containers/site/sitecustomize.py",
        "smlocal/containers/forkserver.py",
        "smlocal/data/abalone-dataset.csv",
    ):
        assert required in names, required
    assert not any(name.startswith(("pipelines/", "tests/")) for name in names)
    assert "run-pipeline" not in metadata(local_target_wheel, "entry_points.txt")
    assert "smlocal = smlocal.pytest_plugin" in metadata(local_target_wheel, "entry_points.txt")
    pth = local_target_wheel.read("smlocal.pth").decode()
    assert pth.startswith("import ") and "PIPELINES_TARGET" in pth
