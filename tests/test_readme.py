"""The README matches the code: its commands are the ones users and CI run, its picture is
what the documented command draws, and its sections answer a newcomer's first questions."""

import re
import shlex
import subprocess

import matplotlib.image
import numpy

from tests.helpers import ROOT, run_cli

README = (ROOT / "README.md").read_text()


def _block_after(marker):
    text = README.split(f"<!-- {marker} -->", 1)[1]
    return text.split("```bash\n", 1)[1].split("```", 1)[0].strip()


def test_run_command_runs_the_abalone_pipeline_locally():
    assert (
        _block_after("run-command")
        == "pip install --no-compile . && run-pipeline -n pipelines.abalone.pipeline --local"
    )


def test_ci_runs_the_readme_test_command():
    extracted = subprocess.run(
        [
            "bash",
            "-c",
            "awk '/<!-- test-command -->/{found=1; next} found && /^```/{if (inblock) exit; "
            "inblock=1; next} inblock{print}' README.md",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    assert extracted == _block_after("test-command") == "pip install tox && tox run-parallel"
    assert "README.md" in (ROOT / ".ci" / "run").read_text()


def test_layout_is_the_templates():
    for path in (
        "codebuild-buildspec.yml",
        "CONTRIBUTING.md",
        "README.md",
        "setup.cfg",
        "setup.py",
        "tox.ini",
        "pipelines/__init__.py",
        "pipelines/__version__.py",
        "pipelines/_utils.py",
        "pipelines/get_pipeline_definition.py",
        "pipelines/run_pipeline.py",
        "pipelines/abalone/__init__.py",
        "pipelines/abalone/pipeline.py",
        "pipelines/abalone/preprocess.py",
        "pipelines/abalone/evaluate.py",
        "tests/test_pipelines.py",
    ):
        assert (ROOT / path).is_file(), path


def test_the_pipeline_picture_is_what_the_documented_command_draws(tmp_path):
    (command,) = re.findall(
        r"`(get-pipeline-definition [^`]*--graph img/pipeline-full\.png)`", README
    )
    args = shlex.split(command)[1:]
    args[args.index("img/pipeline-full.png")] = str(tmp_path / "fresh.png")
    result = run_cli(["pipelines.get_pipeline_definition", *args], no_network=True)
    assert result.returncode == 0, result.stderr
    committed = matplotlib.image.imread(ROOT / "img" / "pipeline-full.png")
    fresh = matplotlib.image.imread(tmp_path / "fresh.png")
    assert committed.shape == fresh.shape
    differing = (numpy.abs(committed - fresh).max(axis=-1) > 0.1).mean()
    assert differing < 0.005, f"{differing:.2%} of the pixels differ: redraw it with {command!r}"


def test_sections_a_newcomer_looks_for():
    headings = re.findall(r"^## (.+)$", README, flags=re.M)
    for heading in (
        "Start here",
        "Install: size and time",
        "How long a run takes",
        "State: where it lives and how to clean it",
        "Add a pipeline",
        "Run on SageMaker",
    ):
        assert heading in headings, heading
    assert "(CONTRIBUTING.md#add-a-pipeline)" in README
    assert "pipelines-local clean --keep" in README and "PIPELINES_XGBOOST=xgboost" in README
