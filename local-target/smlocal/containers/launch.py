"""Entry point of a step's process: install the path map, then run a script or module.

``python -m smlocal.containers.launch MAP_JSON script.py [args...]`` or
``... MAP_JSON -m package.module [args...]``; the script sees ``sys.argv`` as it would in the
container (script path in container terms, then its arguments).
"""

from __future__ import annotations

import json
import os
import runpy
import sys

from smlocal.containers import remap


def run_target(mapping: dict, target: list[str]) -> None:
    """Install the map and run ``target`` as ``__main__`` (raises SystemExit as scripts do)."""
    from smlocal import activation, config

    if config.requested() and not activation.enabled():
        activation.enable()  # forked from a server started before the target was on
    remap.install(mapping)
    if target[0] == "-m":
        sys.argv = [target[1]] + target[2:]
        runpy.run_module(target[1], run_name="__main__", alter_sys=True)
    else:
        script = target[0]
        local_script = remap.PathMap(mapping)(script)
        sys.argv = [script] + target[1:]
        sys.path.insert(0, os.path.dirname(local_script))
        runpy.run_path(local_script, run_name="__main__")


def main(argv: list[str]) -> None:
    run_target(json.loads(argv[0]), argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
