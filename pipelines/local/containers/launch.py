"""Entry point of a step's process: install the path map, then run a script or module.

``python -m pipelines.local.containers.launch MAP_JSON script.py [args...]`` or
``... MAP_JSON -m package.module [args...]``; the script sees ``sys.argv`` as it would in the
container (script path in container terms, then its arguments).
"""

from __future__ import annotations

import json
import os
import runpy
import sys

from pipelines.local.containers import remap


def main(argv: list[str]) -> None:
    mapping = json.loads(argv[0])
    target = argv[1:]
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


if __name__ == "__main__":
    main(sys.argv[1:])
