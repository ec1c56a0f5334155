"""The two distributions hold what they need at run time, and only that."""

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.helpers import ROOT


def build_wheel(source, folder):
    # Building is not under test: measured, the copy's modules would count as code never run.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
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
        env=env,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = folder.glob("*.whl")
    return zipfile.ZipFile(wheel)


def metadata(wheel, name):
    return wheel.read(
        next(n for n in wheel.namelist() if n.endswith(f".dist-info/{name}"))
    ).decode()


BUILD_LEFTOVERS = shutil.ignore_patterns(
    "build", "*.egg-info", ".tox", ".git", "__pycache__", ".pytest_cache", ".coverage*"
)


@pytest.fixture(scope="module")
def template_source(tmp_path_factory):
    """A copy of the checkout: building leaves build/ and *.egg-info in the source folder."""
    source = tmp_path_factory.mktemp("source") / "template"
    shutil.copytree(ROOT, source, ignore=BUILD_LEFTOVERS)
    return source


@pytest.fixture(scope="module")
def template_wheel(template_source, tmp_path_factory):
    return build_wheel(template_source, tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="module")
def local_target_wheel(tmp_path_factory):
    source = tmp_path_factory.mktemp("source") / "local-target"
    shutil.copytree(ROOT / "local-target", source, ignore=BUILD_LEFTOVERS)
    return build_wheel(source, tmp_path_factory.mktemp("local-target"))


def test_template_wheel(template_wheel, template_source):
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
    # the licence it declares (in .dist-info/, or .dist-info/licenses/ with newer setuptools)
    (licence,) = [n for n in names if ".dist-info/" in n and n.endswith("/LICENSE")]
    assert "Apache License" in template_wheel.read(licence).decode()
    text = metadata(template_wheel, "entry_points.txt")
    for script in ("run-pipeline", "get-pipeline-definition", "model-registry", "pipelines-local"):
        assert f"{script} = " in text
    requirements = [
        line
        for line in metadata(template_wheel, "METADATA").splitlines()
        if "Requires-Dist" in line
    ]
    local = next(line for line in requirements if "smlocal" in line)
    assert (template_source / "local-target").as_uri() in local


def requirement(requirements: list, name: str) -> str:
    return next(line for line in requirements if line.startswith(f"Requires-Dist: {name}"))


def test_xgboost_is_the_cpu_build_where_one_exists(template_wheel, local_target_wheel):
    """No CUDA libraries (~500 MB) for a project that never uses a GPU; the same module."""
    from packaging.markers import Marker

    linux = {"platform_system": "Linux", "platform_machine": "x86_64"}
    mac = {"platform_system": "Darwin", "platform_machine": "arm64"}
    for wheel in (template_wheel, local_target_wheel):
        requirements = [
            line for line in metadata(wheel, "METADATA").splitlines() if "Requires-Dist" in line
        ]
        cpu, regular = requirement(requirements, "xgboost-cpu"), requirement(
            requirements, "xgboost;"
        )
        assert Marker(cpu.split(";", 1)[1]).evaluate(linux)
        assert not Marker(regular.split(";", 1)[1]).evaluate(linux)
        assert Marker(regular.split(";", 1)[1]).evaluate(mac)
        assert not Marker(cpu.split(";", 1)[1]).evaluate(mac)
        matplotlib = requirement(requirements, "matplotlib")
        assert 'extra == "pictures"' in matplotlib  # pictures are optional


def test_a_gpu_build_can_be_kept(template_source, tmp_path, monkeypatch):
    """``PIPELINES_XGBOOST=xgboost`` asks for the regular distribution, which pip then keeps."""
    monkeypatch.setenv("PIPELINES_XGBOOST", "xgboost")
    wheel = build_wheel(template_source, tmp_path)
    requirements = [
        line for line in metadata(wheel, "METADATA").splitlines() if "Requires-Dist" in line
    ]
    assert "Requires-Dist: xgboost" in requirements
    assert not any("xgboost-cpu" in line for line in requirements)


def test_the_tests_read_the_data_set_the_local_target_ships():
    import hashlib

    from tests.helpers import ABALONE_CSV, ABALONE_SHA256, missing_data_message

    assert ABALONE_CSV.parent.parent.name == "smlocal"
    assert hashlib.sha256(ABALONE_CSV.read_bytes()).hexdigest() == ABALONE_SHA256
    assert "https://doi.org/10.24432/C55C7W" in missing_data_message()


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
