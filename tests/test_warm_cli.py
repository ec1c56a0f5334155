"""The tests' warm CLI launcher starts a run as a fresh ``python -m`` would: same output, same end."""

import json
import os

import pytest

from tests import warm_cli
from tests.helpers import NO_NETWORK_DIR, ROOT, run_cli

PROBE = "tests.fixtures.startup_probe"


def both(args=(), **kwargs):
    warm = run_cli([PROBE, *args], **kwargs)
    fresh = run_cli([PROBE, *args], fresh=True, **kwargs)
    return warm, fresh


def test_the_tests_runs_are_warm():
    """Otherwise the comparisons below compare fresh with fresh."""
    assert warm_cli.launcher(ROOT) is not None
    assert warm_cli.launcher(ROOT).accepts(dict(os.environ))


def test_same_path_argv_main_module_and_import_time_output():
    warm, fresh = both()
    assert (warm.returncode, warm.stdout, warm.stderr) == (
        fresh.returncode,
        fresh.stdout,
        fresh.stderr,
    )
    seen = json.loads(warm.stdout)
    assert seen["path"][0] == str(ROOT) and seen["name"] == "__main__" and seen["main"]
    assert seen["argv"][0].endswith("startup_probe.py")
    assert "a warning at import time" in warm.stderr  # warnings are the run's, not the server's
    assert not seen["sagemaker_imported"]  # the SDK's own package is imported by a run, if at all


@pytest.mark.parametrize("ending", [["--exit", "3"], ["--exit", "0", "--atexit", "--thread"]])
def test_a_run_ends_as_an_interpreter_does(ending):
    """Exit status, exit handlers, and threads that outlive the main module."""
    warm, fresh = both(ending)
    assert (warm.returncode, warm.stdout, warm.stderr) == (
        fresh.returncode,
        fresh.stdout,
        fresh.stderr,
    )
    assert warm.returncode == int(ending[1])
    if "--atexit" in ending:
        assert warm.stdout.splitlines()[-2:] == ["thread ended", "atexit ran"]


def test_an_uncaught_error_is_exit_1_with_its_message_last():
    warm, fresh = both(["--raise"])
    assert warm.returncode == fresh.returncode == 1
    assert warm.stdout == fresh.stdout
    last = "RuntimeError: raised by the probe"
    assert warm.stderr.strip().splitlines()[-1] == fresh.stderr.strip().splitlines()[-1] == last


def test_environment_working_directory_and_start_up_hooks(tmp_path):
    """PYTHONPATH's sitecustomize (the no-network guard) and smlocal.pth run; cwd is the run's."""
    env = {"PYTHONPATH": str(ROOT), "PIPELINES_TARGET": "local", "PROBE": "seen"}
    warm, fresh = both(env=env, cwd=tmp_path, no_network=True)
    assert (warm.returncode, warm.stdout, warm.stderr) == (
        fresh.returncode,
        fresh.stdout,
        fresh.stderr,
    )
    seen = json.loads(warm.stdout)
    assert seen["cwd"] == str(tmp_path) and seen["path"][:3] == [
        str(tmp_path),
        str(NO_NETWORK_DIR),
        str(ROOT),
    ]
    assert seen["env"] == "seen" and seen["local_target_on"]
    assert seen["sitecustomize"] == str(NO_NETWORK_DIR / "sitecustomize.py")


def test_a_module_the_runs_path_cannot_import_is_python_m_s_error(tmp_path):
    """The server's own ``tests`` package is not lent to the run."""
    warm, fresh = both(cwd=tmp_path)
    assert (warm.returncode, warm.stdout, warm.stderr) == (
        fresh.returncode,
        fresh.stdout,
        fresh.stderr,
    )
    assert warm.returncode == 1 and "No module named" in warm.stderr


def test_a_run_past_its_timeout_is_ended_and_raises_as_subprocess_does():
    import subprocess
    import time

    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_cli([PROBE, "--sleep", "60"], timeout=1)
    assert time.monotonic() - started < 30
    assert run_cli([PROBE]).returncode == 0  # the launcher still serves


def test_a_launcher_that_died_is_said_so_and_replaced():
    first = warm_cli.launcher(ROOT)
    first.proc.kill()
    first.proc.wait()
    with pytest.raises(RuntimeError, match="launcher ended"):
        first.run([PROBE], dict(os.environ), ROOT, timeout=30)
    assert warm_cli.launcher(ROOT) is not first
    assert run_cli([PROBE]).returncode == 0


def test_the_launcher_starts_where_nothing_is_compiled_yet(monkeypatch, tmp_path):
    """Compiling the preload afresh warns (invalid escapes), as Python's defaults would not show."""
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(tmp_path / "pycache"))
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    launcher = warm_cli.WarmLauncher(ROOT)
    try:
        assert launcher.run([PROBE], dict(os.environ), ROOT, timeout=60).returncode == 0
    finally:
        launcher.close()
    assert any((tmp_path / "pycache").rglob("*.pyc"))  # it did compile afresh


def test_a_run_that_sets_interpreter_start_up_variables_otherwise_is_not_taken(monkeypatch):
    """Those the interpreter reads at start-up (the server's are fixed); PYTHONPATH is the run's."""
    launcher = warm_cli.launcher(ROOT)
    assert launcher.accepts(dict(os.environ, PYTHONPATH="/elsewhere"))
    assert not launcher.accepts(dict(os.environ, PYTHONHASHSEED="7"))
    monkeypatch.setenv(warm_cli.FRESH_ENV, "1")
    assert warm_cli.launcher(ROOT) is None


def test_heavy_modules_are_collected_first_and_tox_keeps_that_order():
    import subprocess
    import sys

    light, heavy = "tests/test_readme.py", "tests/test_notebook.py"  # collected in this order
    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            light,
            heavy,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.splitlines()
    modules = [line.split("::")[0] for line in listed if "::" in line]
    assert modules[0] == heavy and modules[-1] == light
    assert "--no-loadscope-reorder" in (ROOT / "tox.ini").read_text()
