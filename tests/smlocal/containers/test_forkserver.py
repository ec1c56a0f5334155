"""The fork server's warm imports: what the containers' programs use, and nothing every run pays for idly."""

import json
import subprocess
import sys


def preloaded(before: str = "", after: str = "") -> dict:
    """What a fresh interpreter printed (JSON) running ``before``, ``preload()``, then ``after``."""
    probe = f"import json, sys\n{before}from smlocal.containers import forkserver\nforkserver.preload()\n{after}"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_preload_warms_the_step_libraries_and_not_matplotlib():
    loaded = preloaded(
        after="print(json.dumps({m: m in sys.modules for m in "
        "('pandas', 'sklearn.preprocessing', 'xgboost', 'matplotlib')}))\n"
    )
    assert loaded == {
        "pandas": True,
        "sklearn.preprocessing": True,
        "xgboost": True,
        # about a second of CPU and 22 MiB in every run, for a library no container's program uses
        "matplotlib": False,
    }


def test_a_tracer_is_paused_while_the_libraries_load_and_sees_our_modules_load():
    """Coverage's tracer made the libraries' imports 1.7x dearer; it measures none of them."""
    traced = preloaded(
        before=(
            "seen = set()\n"
            "def tracer(frame, event, arg):\n"
            "    seen.add(frame.f_code.co_filename)\n"
            "sys.settrace(tracer)\n"
        ),
        after=(
            "restored = sys.gettrace() is tracer\n"
            "sys.settrace(None)\n"
            "print(json.dumps({'restored': restored, 'seen': sorted(seen)}))\n"
        ),
    )
    assert traced["restored"]
    seen = traced["seen"]
    libraries = [f for f in seen if any(f"/{lib}/" in f for lib in ("numpy", "pandas", "sklearn"))]
    assert libraries == []
    assert any(f.endswith("smlocal/containers/remap.py") for f in seen)  # our modules: traced
