"""A CLI to get pipeline definitions from pipeline modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines import _cli
from pipelines._utils import UsageError


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
        default="json",
        help="What to output: the definition JSON (default), or its graph as Mermaid or Graphviz DOT.",
    )
    parser.add_argument(
        "--graph",
        dest="graph",
        default=None,
        metavar="FILE",
        help="Also draw the pipeline's graph to FILE (.png or .svg).",
    )
    return parser


def main(argv=None):
    """The main harness for getting the pipeline definition."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.module_name is None:
        parser.print_help()
        sys.exit(2)
    if args.graph and Path(args.graph).suffix.lower() not in (".png", ".svg"):
        _cli.usage_error(parser, f"--graph: {args.graph!r} must end in .png or .svg")
    _cli.select_target(args)
    _cli.quiet_sdk(offline=args.local)
    try:
        pipeline = _cli.build_pipeline(args.module_name, _cli.pipeline_kwargs(parser, args))
        text = pipeline.definition()
        if args.local:
            _cli.refuse_unrunnable(text)
        definition = json.loads(text)
        content = json.dumps(definition, indent=2, sort_keys=True)
        if args.format != "json" or args.graph:
            from smlocal import graph

            dag = graph.build(definition)
            if args.format == "mermaid":
                content = graph.to_mermaid(dag)
            elif args.format == "dot":
                content = graph.to_dot(dag)
    except UsageError as err:
        _cli.usage_error(parser, str(err))
    except Exception as e:  # the template's contract: report, trace, exit 1
        print(f"Exception: {e}")
        import traceback

        traceback.print_exc()
        sys.exit(1)
    if args.graph:
        try:
            graph.render(dag, args.graph, title=pipeline.name)
        except OSError as err:
            _cli.usage_error(parser, f"--graph: cannot write {args.graph!r}: {err.strerror}")
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
