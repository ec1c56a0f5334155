"""A CLI to get pipeline definitions from pipeline modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines import _cli
from pipelines._utils import UsageError
from smlocal.errors import StateError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "get-pipeline-definition",
        description="Gets the pipeline definition for the pipeline script.",
    )
    _cli.add_pipeline_arguments(parser)
    parser.add_argument(
        "-f",
        "--file-name",
        dest="file_name",
        type=str,
        default=None,
        help="The file to output the pipeline definition json to.",
    )
    parser.add_argument(
        "--format",
        choices=("json", "mermaid", "dot"),
        default=None,
        help="What to output: the definition JSON (default), or its graph as Mermaid or Graphviz DOT.",
    )
    parser.add_argument(
        "--graph",
        dest="graph",
        default=None,
        metavar="FILE",
        help="Draw the pipeline's graph to FILE (.png or .svg) in an existing folder; the "
        "definition is then output only if --format or --file-name asks for it.",
    )
    return parser


def check_graph_file(parser: argparse.ArgumentParser, path: str) -> None:
    """Refuse a ``--graph`` file that cannot be written, before the pipeline is built."""
    if Path(path).suffix.lower() not in (".png", ".svg"):
        _cli.usage_error(parser, f"--graph: {path!r} must end in .png or .svg")
    folder = Path(path).parent
    if not folder.is_dir():
        _cli.usage_error(parser, f"--graph: folder {str(folder)!r} does not exist")
    if not _cli.can_draw():
        _cli.usage_error(parser, f"--graph: {_cli.PICTURES_HINT}")


def wants_content(args: argparse.Namespace) -> bool:
    """The definition (or its text graph) is output unless only a picture was asked for."""
    return not args.graph or args.format is not None or args.file_name is not None


def main(argv=None):
    """The main harness for getting the pipeline definition."""
    _cli.run_command(_main, argv)


def _main(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.module_name is None:
        parser.print_help()
        sys.exit(2)
    if args.graph:
        check_graph_file(parser, args.graph)
    if args.file_name and not Path(args.file_name).parent.is_dir():
        folder = str(Path(args.file_name).parent)
        _cli.usage_error(parser, f"--file-name: folder {folder!r} does not exist")
    _cli.select_target(args)
    _cli.quiet_sdk(offline=args.local)
    try:
        pipeline = _cli.build_pipeline(args.module_name, _cli.pipeline_kwargs(parser, args))
        text = pipeline.definition()
        if args.local:
            _cli.refuse_unrunnable(text)
        definition = json.loads(text)
        content = json.dumps(definition, indent=2, sort_keys=True)
        if args.format not in (None, "json") or args.graph:
            from smlocal import graph

            dag = graph.build(definition)
            if args.format == "mermaid":
                content = graph.to_mermaid(dag)
            elif args.format == "dot":
                content = graph.to_dot(dag)
    except UsageError as err:
        _cli.usage_error(parser, str(err))
    except StateError:
        raise  # one line, from run_command
    except Exception as e:  # the template's contract: report, trace, exit 1
        print(f"Exception: {e}")
        import traceback

        traceback.print_exc()
        sys.exit(1)
    if args.graph:
        try:
            graph.render(dag, args.graph, title=pipeline.name)
            _cli.stderr(f"Wrote the pipeline's graph to {args.graph}")
        except graph.TooLarge as note:
            _cli.stderr(f"--graph: {note}")
        except OSError as err:
            _cli.usage_error(parser, f"--graph: cannot write {args.graph!r}: {err.strerror}")
    if not wants_content(args):
        return
    if args.file_name:
        try:
            with open(args.file_name, "w") as f:
                f.write(content)
        except OSError as err:
            _cli.usage_error(
                parser, f"--file-name: cannot write {args.file_name!r}: {err.strerror}"
            )
    else:
        print(content)


if __name__ == "__main__":
    main()
