"""The README's two commands are the ones users and CI run."""

import subprocess

from tests.helpers import ROOT

README = (ROOT / "README.md").read_text()


def _block_after(marker):
    text = README.split(f"<!-- {marker} -->", 1)[1]
    return text.split("```bash\n", 1)[1].split("```", 1)[0].strip()


def test_run_command_runs_the_abalone_pipeline_locally():
    assert (
        _block_after("run-command")
        == "pip install . && run-pipeline -n pipelines.abalone.pipeline --local"
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
    assert extracted == _block_after("test-command") == "pip install tox && tox"
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
