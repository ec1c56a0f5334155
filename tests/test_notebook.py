"""The notebook runs top to bottom, headless, on the local target: twice against the same state."""

import json
import os
import re

import nbclient
import nbformat
import pytest

from tests.helpers import NO_NETWORK_DIR, ROOT

pytestmark = pytest.mark.heavy  # scheduled first (tests/conftest.py)

NOTEBOOK = ROOT / "sagemaker-pipelines-project.ipynb"


def execute(nb, home, tmp_path):
    """Run ``nb`` in a kernel that may not leave the machine, state in ``home``; its outputs."""
    path = os.pathsep.join(
        filter(None, [str(NO_NETWORK_DIR), str(ROOT), os.environ.get("PYTHONPATH")])
    )
    env = {
        "PYTHONPATH": path,
        "PIPELINES_LOCAL_HOME": str(home),
        "NO_NETWORK_LOG": str(tmp_path / "network.log"),
    }
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        client.execute()
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def stream_text(outputs, name="stdout") -> str:
    return "".join(o.get("text", "") for o in outputs if o.get("name") == name)


def test_notebook_is_committed_without_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert 'TARGET = "local"' in "".join(code[0]["source"])


def test_the_layout_cell_names_files_that_exist():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    layout = next(c.source for c in nb.cells if c.source.startswith("## Layout"))
    tree = layout.split("```")[1]
    folders: list[str] = []
    for line in tree.strip().splitlines():
        match = re.match(r"^((?:\|   |    )*)[|`]-- (\S+)", line)
        if not match:
            continue
        depth = len(match.group(1)) // 4
        folders[depth:] = [match.group(2).rstrip(",")]
        path = ROOT.joinpath(*folders)
        assert path.exists(), path
    assert len(folders) >= 1


def test_notebook_runs_twice_on_the_same_state(tmp_path):
    home = tmp_path / "home"
    first = execute(nbformat.read(NOTEBOOK, as_version=4), home, tmp_path)
    second = execute(nbformat.read(NOTEBOOK, as_version=4), home, tmp_path)
    for outputs, (approved, pending) in ((first, (2, 1)), (second, (4, 3))):
        text = stream_text(outputs)
        assert text.count("Succeeded") >= 2
        assert (
            f"{approved}        Approved" in text
            and f"{pending}        PendingManualApproval" in text
        )
        assert "* best" in text and f"latest approved version ({approved})" in text
        assert f"\n{pending} Approved\n" in text  # the first execution's version, approved now
        assert stream_text(outputs, "stderr") == ""  # no SDK notices or warnings
        assert len([o for o in outputs if "image/png" in o.get("data", {})]) == 1
    assert not (tmp_path / "network.log").exists()


def test_a_failure_shows_its_message_as_error_text(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    setup = [c for c in nb.cells if c.cell_type == "code"][:2]  # TARGET, then the SDK set-up
    fails = nbformat.v4.new_code_cell(
        "from sagemaker.workflow.pipeline import Pipeline\n\nPipeline(name='Nothing').describe()"
    )
    nb.cells = setup + [fails]
    with pytest.raises(nbclient.exceptions.CellExecutionError) as raised:
        execute(nb, tmp_path / "home", tmp_path)
    error = next(o for o in nb.cells[-1].outputs if o.output_type == "error")
    assert error.ename == "ResourceNotFound"
    assert "Pipeline 'Nothing' does not exist" in error.evalue
    assert "does not exist" in str(raised.value)
