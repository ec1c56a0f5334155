"""``pipelines-local``: what the local target's state folder holds, and cleaning it up.

``list`` shows each execution with the room it takes (its folder, and the objects its jobs
wrote) and the state folder's parts; ``picture ID`` draws an execution's picture (steps
coloured by status; needs matplotlib); ``clean --keep N`` removes all but the newest N
executions (their folders and outputs), ``--environments`` the images' Python environments,
``--caches`` the data sets fetched on demand (both are made again when needed). Artifacts
of registered model versions (Approved, or pending approval) are kept unless
``--include-registered`` says otherwise, as is anything a kept execution still uses.

Also ``python -m smlocal.cli_state`` where only the local target is installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Optional

from smlocal import config, errors
from smlocal.housekeeping import CACHES, ENVIRONMENTS, Plan, StateFolder

PICTURE = "pipeline.png"


class StateError(Exception):
    """A request about state that is not there (reported in one line, exit 1)."""


def human(size: int) -> str:
    """``1536`` -> ``1.5 KB``: sizes people read (powers of 1000, as ``du --si``)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def render_list(state: StateFolder, executions, parts: dict[str, int]) -> str:
    rows = [
        [
            e.id,
            e.pipeline,
            e.status,
            e.started.strftime("%Y-%m-%d %H:%M:%S") if e.started else "",
            human(e.folder_bytes) if e.folder.exists() else "removed",
            human(e.output_bytes),
        ]
        for e in executions
    ]
    out = []
    if rows:
        headers = ["execution", "pipeline", "status", "started", "folder", "outputs"]
        out += [_table(headers, rows), ""]
    else:
        out += ["no executions", ""]
    out.append(f"state folder {state.home}: {human(sum(parts.values()))}")
    notes = {"s3": "object store", "executions": "execution folders", "jobs": "standalone jobs"}
    notes.update({name: "cache, re-made on demand" for name in CACHES})
    notes[ENVIRONMENTS] = "images' Python environments, re-made on demand"
    for name, size in parts.items():
        note = notes.get(name, "")
        out.append(f"  {name:<14} {human(size):>9}  {note}".rstrip())
    return "\n".join(out)


def render_plan(plan: Plan, dry_run: bool) -> str:
    verb = "would remove" if dry_run else "removed"
    lines = [
        f"{verb} {len(plan.remove)} execution(s), {len(plan.orphans)} unknown execution "
        f"folder(s), {len(plan.delete_prefixes)} output location(s) and {len(plan.caches)} "
        f"cache or environment folder(s): {human(plan.freed_bytes)}"
    ]
    for execution in plan.remove:
        lines.append(f"  {execution.id}  {execution.pipeline}  {execution.status}")
    for folder in plan.orphans + plan.caches:
        lines.append(f"  {folder}")
    if plan.spared_prefixes:
        lines.append(
            f"kept {len(plan.spared_prefixes)} output location(s) of removed executions "
            f"({human(sum(plan.spared_prefixes.values()))}): a kept execution or a registered "
            "model version uses them"
        )
        lines += [f"  {prefix}" for prefix in plan.spared_prefixes]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "pipelines-local",
        description="Lists and cleans the local target's state folder "
        "($PIPELINES_LOCAL_HOME, default ~/.pipelines-local).",
    )
    parser.add_argument("--home", default=None, help="the state folder (default: as above)")
    parser.add_argument("--output", choices=("table", "json"), default="table")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="executions with their size, and the state folder's parts")
    picture = commands.add_parser(
        "picture", help="draw an execution's picture, steps coloured by status (matplotlib)"
    )
    picture.add_argument("execution", help="the execution's id (or ARN)")
    picture.add_argument(
        "--output",
        dest="picture",
        default=None,
        help="FILE.png or FILE.svg (default: " "pipeline.png in the execution's folder)",
    )
    clean = commands.add_parser("clean", help="remove old executions and caches")
    clean.add_argument(
        "--keep", type=int, default=None, metavar="N", help="keep the newest N executions"
    )
    clean.add_argument("--pipeline", default=None, help="only this pipeline's executions")
    clean.add_argument(
        "--caches", action="store_true", help=f"remove the caches ({', '.join(CACHES)})"
    )
    clean.add_argument(
        "--environments",
        action="store_true",
        help=f"remove the images' Python environments ({ENVIRONMENTS}/)",
    )
    clean.add_argument(
        "--include-registered",
        action="store_true",
        help="also remove artifacts of registered model versions (Approved or pending)",
    )
    clean.add_argument(
        "--dry-run", action="store_true", help="say what would be removed, remove nothing"
    )
    return parser


def draw(args: argparse.Namespace, state: StateFolder) -> str:
    """The execution's picture, from the definition and statuses kept in its folder."""
    from smlocal import graph

    execution_id = args.execution.rsplit("/", 1)[-1]
    found = [e for e in state.executions(with_outputs=False) if e.id == execution_id]
    if not found or not (found[0].folder / "statuses.json").is_file():
        raise StateError(f"no execution {execution_id!r} with a folder in {state.home}")
    execution = found[0]
    definition = (execution.folder / "definition.json").read_text()
    statuses = json.loads((execution.folder / "statuses.json").read_text())
    out = Path(args.picture) if args.picture else execution.folder / PICTURE
    title = f"{execution.pipeline} · execution {execution.id} · {execution.status}"
    try:
        graph.render(graph.build(definition, statuses), out, title=title)
    except graph.TooLarge as note:
        return f"The picture of execution {execution.id} was {note}"
    return f"Wrote the picture of execution {execution.id} to {out}"


def run(args: argparse.Namespace, state: StateFolder) -> str:
    if args.command == "picture":
        return draw(args, state)
    if args.command == "list":
        executions = state.executions()
        parts = state.parts()
        if args.output == "json":
            return json.dumps(
                {"Executions": [e.as_dict() for e in executions], "StateFolder": parts}, indent=2
            )
        return render_list(state, executions, parts)
    plan = state.plan(
        args.keep, args.pipeline, args.caches, args.include_registered, args.environments
    )
    if not args.dry_run:
        state.apply(plan)
    if args.output == "json":
        return json.dumps(
            {
                "Removed": [e.arn for e in plan.remove],
                "UnknownFolders": [str(p) for p in plan.orphans],
                "DeletedOutputs": plan.delete_prefixes,
                "KeptOutputs": plan.spared_prefixes,
                "Caches": [str(p) for p in plan.caches],
                "FreedBytes": plan.freed_bytes,
                "DryRun": args.dry_run,
            },
            indent=2,
        )
    return render_plan(plan, args.dry_run)


def main(argv: Optional[list] = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "clean":
        if args.keep is None and not (args.caches or args.environments):
            parser.error(
                "clean: say what to remove: --keep N (old executions), --environments, --caches"
            )
        if args.keep is not None and args.keep < 0:
            parser.error("clean: --keep must be 0 or more")
    if args.command == "picture":
        check_picture_file(parser, args.picture)
    home = Path(args.home).expanduser().resolve() if args.home else config.home()
    if not home.is_dir():
        print(f"no state folder at {home}: nothing to list or clean")
        return
    try:
        print(run(args, StateFolder(home)))
    except (StateError, errors.StateError) as err:
        parser.exit(1, f"{parser.prog}: error: {err}\n")


def check_picture_file(parser: argparse.ArgumentParser, path: Optional[str]) -> None:
    """Refuse what cannot be drawn, in one line, before anything is read."""
    if importlib.util.find_spec("matplotlib") is None:
        parser.error("picture: drawing needs matplotlib: pip install matplotlib")
    if path is None:
        return
    if Path(path).suffix.lower() not in (".png", ".svg"):
        parser.error(f"picture: {path!r} must end in .png or .svg")
    if not Path(path).parent.is_dir():
        parser.error(f"picture: folder {str(Path(path).parent)!r} does not exist")


if __name__ == "__main__":
    main()
