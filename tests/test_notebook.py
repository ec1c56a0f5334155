"""The notebook runs top to bottom, headless, on the local target."""

import json

import nbclient
import nbformat

from tests.helpers import NO_NETWORK_DIR, ROOT

NOTEBOOK = ROOT / "sagemaker-pipelines-project.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert 'TARGET = "local"' in "".join(code[0]["source"])


def test_notebook_executes_on_the_local_target(monkeypatch, tmp_path):
    monkeypatch.setenv(
        "PYTHONPATH", f"{NO_NETWORK_DIR}:{ROOT}"
    )  # the kernel may not leave the machine
    monkeypatch.setenv("NO_NETWORK_LOG", str(tmp_path / "network.log"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    outputs = [
        "".join(o.get("text", "") for o in c.outputs if o.get("output_type") == "stream")
        for c in nb.cells
        if c.cell_type == "code"
    ]
    text = "\n".join(outputs)
    assert text.count("Succeeded") >= 2
    assert "2        Approved" in text and "1        PendingManualApproval" in text
    assert "* best" in text
    assert "1 Approved" in text
    images = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "image/png" in o.get("data", {})
    ]
    assert len(images) == 1
    assert not (tmp_path / "network.log").exists()
