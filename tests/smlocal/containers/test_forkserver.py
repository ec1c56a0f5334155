"""The fork server's warm imports: what the containers' programs use, and nothing every run pays for idly."""

import json
import subprocess
import sys


def test_preload_warms_the_step_libraries_and_not_matplotlib():
    probe = (
        "import json, sys\n"
        "from smlocal.containers import forkserver\n"
        "forkserver.preload()\n"
        "print(json.dumps({m: m in sys.modules for m in "
        "('pandas', 'sklearn.preprocessing', 'xgboost', 'matplotlib')}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded == {
        "pandas": True,
        "sklearn.preprocessing": True,
        "xgboost": True,
        # about a second of CPU and 22 MiB in every run, for a library no container's program uses
        "matplotlib": False,
    }
