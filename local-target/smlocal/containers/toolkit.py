"""What SageMaker's training toolkit does in a framework container before the user's code runs.

``python -m smlocal.containers.toolkit ENTRY_POINT [ARGS...]``, from ``/opt/ml/code``: installs
``requirements.txt`` there, if any, into the image's environment (``pip install -r``), then runs
the entry point as the toolkit does -- a ``.py`` file with Python (in this process, or in a
fresh interpreter after an install, so that what was installed is what it imports), anything
else with ``/bin/sh -c "./ENTRY_POINT ARGS"``.
"""

from __future__ import annotations

import os
import runpy
import shlex
import subprocess
import sys

CODE_DIR = "/opt/ml/code"


def install_requirements() -> bool:
    """``pip install -r requirements.txt`` when the source has one; True if it did."""
    if not os.path.isfile(os.path.join(CODE_DIR, "requirements.txt")):
        return False
    print("Installing dependencies from requirements.txt", flush=True)
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-r"]
    subprocess.run(command + ["requirements.txt"], check=True, cwd=os.getcwd())
    return True


def main(argv: list[str]) -> None:
    entry_point, args = argv[0], argv[1:]
    installed = install_requirements()
    sys.stdout.flush()
    if not entry_point.endswith(".py"):
        command = " ".join(shlex.quote(a) for a in [f"./{entry_point}", *args])
        os.execv("/bin/sh", ["/bin/sh", "-c", command])
    if installed:
        os.execv(sys.executable, [sys.executable, entry_point, *args])
    sys.argv = [entry_point, *args]
    sys.path.insert(0, os.getcwd())
    runpy.run_path(entry_point, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
