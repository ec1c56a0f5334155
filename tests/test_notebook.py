"""The notebook's code, top to bottom, on the local target."""

import json
import subprocess
import sys

from tests.helpers import NO_NETWORK_DIR, ROOT

NOTEBOOK = ROOT / "sagemaker-pipelines-project.ipynb"


def test_notebook_is_valid_and_has_no_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    assert nb["nbformat"] == 4
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert 'TARGET = "local"' in "".join(code[0]["source"])


def test_notebook_code_runs_on_the_local_target(tmp_path):
    nb = json.loads(NOTEBOOK.read_text())
    script = "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    # the cells' last expressions are displayed by Jupyter; here they are simply evaluated
    (tmp_path / "notebook.py").write_text(script)
    result = subprocess.run(
        [sys.executable, str(tmp_path / "notebook.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**__import__("os").environ, "PYTHONPATH": f"{NO_NETWORK_DIR}:{ROOT}"},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines.count("Succeeded") == 2, result.stdout
    versions = [line.split() for line in lines if line[:1].isdigit()]
    assert [(v[0], v[1]) for v in versions] == [("2", "Approved"), ("1", "PendingManualApproval")]
    assert versions[0][2] == versions[1][2]  # same data, same seed: the same model
