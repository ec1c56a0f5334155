"""The pipeline's picture: its DAG as Mermaid, Graphviz DOT, or a PNG/SVG drawing.

Built from the definition JSON (what SageMaker and the local target run), so it shows what
will run: parameters, steps by type, data and DependsOn edges, condition branches labelled
if/else, Fail steps; optionally coloured by each step's status after a run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from smlocal.definition import iter_functions, parse, referenced_steps

TYPE_COLOURS = {
    "Parameter": "#eeeeee",
    "Processing": "#cfe2f3",
    "Training": "#d9ead3",
    "Condition": "#fff2cc",
    "RegisterModel": "#d9d2e9",
    "Model": "#d0e0e3",
    "Transform": "#fce5cd",
    "Fail": "#f4cccc",
}
# Beyond these a picture is not drawn (a note says so): Mermaid or DOT text shows any size.
MAX_PICTURE_STEPS = 300
MAX_PICTURE_LAYERS = 100
STATUS_COLOURS = {
    "Succeeded": "#93c47d",
    "Failed": "#e06666",
    "Executing": "#ffd966",
    "Starting": "#ffd966",
    "Stopping": "#f6b26b",
    "Stopped": "#b7b7b7",
    "NotExecuted": "#ffffff",
}


@dataclass
class Node:
    id: str
    label: str
    kind: str  # "Parameter" or the step type
    detail: str = ""
    status: Optional[str] = None


@dataclass
class Edge:
    source: str
    target: str
    kind: str  # "data", "depends", "if", "else", "parameter"


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def ranks(self) -> dict[str, int]:
        """Layer of each node: parameters first, each step below everything it waits for.

        Walked with a stack, not recursion: a chain of thousands of steps has a rank too.
        """
        rank = {n.id: 0 for n in self.nodes.values() if n.kind == "Parameter"}
        incoming: dict[str, list[str]] = {}
        for edge in self.edges:
            if edge.kind != "parameter":
                incoming.setdefault(edge.target, []).append(edge.source)
        for start in self.nodes:
            stack, entered = [start], set()
            while stack:
                node_id = stack[-1]
                if node_id in rank:
                    stack.pop()
                    continue
                waiting = [u for u in incoming.get(node_id, []) if u not in rank]
                if waiting and node_id not in entered:
                    entered.add(node_id)
                    stack.extend(waiting)
                    continue
                # a cycle (refused by the definition's checks) leaves a source unranked: 0
                rank[node_id] = 1 + max(
                    (rank.get(u, 0) for u in incoming.get(node_id, [])), default=0
                )
                stack.pop()
        return rank

    def too_large(self) -> Optional[str]:
        """Why this graph is not drawn as a picture (None: it is drawn).

        A picture's time and memory grow with its area: a 2,000-step chain would take
        minutes and gigabytes for an image nobody can read. The text forms have no limit.
        """
        steps = sum(1 for n in self.nodes.values() if n.kind != "Parameter")
        if steps > MAX_PICTURE_STEPS:
            return f"{steps} steps, more than the {MAX_PICTURE_STEPS} a picture shows"
        ranks = self.ranks()
        depth = max(ranks.values(), default=0) + 1
        if depth > MAX_PICTURE_LAYERS:
            return f"{depth} layers deep, more than the {MAX_PICTURE_LAYERS} a picture shows"
        return None


class TooLarge(ValueError):
    """A graph too large to draw (the message says why and what to use instead)."""


def _param_id(name: str) -> str:
    return "param_" + re.sub(r"\W", "_", name)


def _step_id(name: str) -> str:
    return "step_" + re.sub(r"\W", "_", name)


def build(definition, statuses: Optional[dict[str, str]] = None) -> Graph:
    """The graph of a definition (JSON text or dict); ``statuses`` colours steps by name."""
    if isinstance(definition, str):
        definition = json.loads(definition)
    plan = parse(definition)
    graph = Graph()
    used_parameters: dict[str, set[str]] = {}
    for spec in plan.steps.values():
        scope = {k: v for k, v in spec.raw.items() if k != "Arguments"}
        scope["Arguments"] = {
            k: v for k, v in spec.arguments.items() if k not in ("IfSteps", "ElseSteps")
        }
        for func, arg in iter_functions(scope):
            if func == "Get" and isinstance(arg, str) and arg.startswith("Parameters."):
                used_parameters.setdefault(arg.split(".", 1)[1], set()).add(spec.name)
    for parameter in plan.parameters.values():
        default = "" if parameter.default is None else f" = {parameter.default}"
        node = Node(
            _param_id(parameter.name), f"{parameter.name}{default}", "Parameter", parameter.type
        )
        graph.nodes[node.id] = node
    for spec in plan.steps.values():
        status = (statuses or {}).get(spec.name)
        if statuses is not None and status is None:
            status = "NotExecuted"
        graph.nodes[_step_id(spec.name)] = Node(
            _step_id(spec.name), spec.name, spec.type, spec.type, status
        )
    for spec in plan.steps.values():
        target = _step_id(spec.name)
        data = referenced_steps(
            {k: v for k, v in spec.raw.items() if k != "Arguments"}
            | {
                "Arguments": {
                    k: v for k, v in spec.arguments.items() if k not in ("IfSteps", "ElseSteps")
                }
            }
        )
        for source in sorted(data):
            graph.edges.append(Edge(_step_id(source), target, "data"))
        for source in spec.depends_on:
            if source not in data:
                graph.edges.append(Edge(_step_id(source), target, "depends"))
        same_branch = [
            u for u in data | set(spec.depends_on) if plan.steps[u].branch == spec.branch
        ]
        if (
            spec.branch is not None and not same_branch
        ):  # inner steps hang off the branch's first ones
            graph.edges.append(
                Edge(
                    _step_id(spec.branch.condition), target, "if" if spec.branch.outcome else "else"
                )
            )
    for name, steps in used_parameters.items():
        for step in sorted(steps):
            graph.edges.append(Edge(_param_id(name), _step_id(step), "parameter"))
    return graph


# text forms
def to_mermaid(graph: Graph) -> str:
    lines = ["flowchart TD"]
    for node in graph.nodes.values():
        text = f"{node.label}<br/>{node.detail}".replace('"', "'")
        shape = (
            f'[/"{text}"/]'
            if node.kind == "Parameter"
            else (f'{{"{text}"}}' if node.kind == "Condition" else f'["{text}"]')
        )
        lines.append(f"    {node.id}{shape}")
    arrows = {
        "data": "-->",
        "depends": "-.->",
        "parameter": "-.->",
        "if": "-- if -->",
        "else": "-- else -->",
    }
    for edge in graph.edges:
        lines.append(f"    {edge.source} {arrows[edge.kind]} {edge.target}")
    for node in graph.nodes.values():
        colour = (
            STATUS_COLOURS.get(node.status)
            if node.status
            else TYPE_COLOURS.get(node.kind, "#ffffff")
        )
        lines.append(f"    style {node.id} fill:{colour}")
    return "\n".join(lines) + "\n"


def to_dot(graph: Graph) -> str:
    lines = [
        "digraph pipeline {",
        "    rankdir=TB;",
        '    node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for node in graph.nodes.values():
        colour = (
            STATUS_COLOURS.get(node.status)
            if node.status
            else TYPE_COLOURS.get(node.kind, "#ffffff")
        )
        shape = {"Parameter": "note", "Condition": "diamond"}.get(node.kind, "box")
        label = f"{node.label}\\n{node.detail}" + (f"\\n[{node.status}]" if node.status else "")
        lines.append(f'    {node.id} [label="{label}", shape={shape}, fillcolor="{colour}"];')
    styles = {
        "data": "",
        "depends": ' [style=dashed, label="depends on"]',
        "parameter": " [style=dotted, color=gray]",
        "if": ' [label="if"]',
        "else": ' [label="else"]',
    }
    for edge in graph.edges:
        lines.append(f"    {edge.source} -> {edge.target}{styles[edge.kind]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# drawing
def render(graph: Graph, path, title: Optional[str] = None) -> Path:
    """Draw the graph to ``path``: PNG or SVG, by its extension."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise ValueError(f"{path}: the picture must be a .png or .svg file")
    why = graph.too_large()
    if why:
        raise TooLarge(
            f"not drawn: the pipeline has {why} (its text forms show it: "
            "get-pipeline-definition --format mermaid or --format dot)"
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    plt.rcParams["svg.fonttype"] = "none"  # keep text as text in SVG
    ranks = graph.ranks()
    layers: dict[int, list[str]] = {}
    for node_id in graph.nodes:
        layers.setdefault(ranks[node_id], []).append(node_id)
    box_w, box_h, gap_x, gap_y = 3.0, 0.9, 0.5, 1.0
    widest = max(len(ids) for ids in layers.values())
    width = widest * (box_w + gap_x) + 1.5  # room for edges routed around on the right
    positions = {}
    for rank, ids in layers.items():
        row_width = len(ids) * (box_w + gap_x) - gap_x
        for i, node_id in enumerate(ids):
            positions[node_id] = (
                -row_width / 2 + i * (box_w + gap_x) + box_w / 2,
                -rank * (box_h + gap_y),
            )
    depth = max(layers) + 1
    fig, ax = plt.subplots(figsize=(max(6.0, width * 0.9), max(3.0, depth * (box_h + gap_y) * 0.9)))
    ax.set_axis_off()
    for edge in graph.edges:
        (x1, y1), (x2, y2) = positions[edge.source], positions[edge.target]
        style = {"data": "-", "depends": "--", "parameter": ":", "if": "-", "else": "-"}[edge.kind]
        colour = "#b0b0b0" if edge.kind == "parameter" else "#333333"
        span = ranks[edge.target] - ranks[edge.source]
        if span > 1 and edge.kind != "parameter":
            # a step further down: go around the boxes in between, on the right
            start, end, bend = (
                (x1 + box_w / 2, y1),
                (x2 + box_w * 0.35, y2 + box_h / 2),
                "arc3,rad=-0.3",
            )
        else:
            start, end, bend = (x1, y1 - box_h / 2), (x2, y2 + box_h / 2), "arc3,rad=0"
        arrow = FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=12,
            connectionstyle=bend,
            linestyle=style,
            color=colour,
            linewidth=0.8 if edge.kind == "parameter" else 1.1,
            shrinkA=2,
            shrinkB=2,
            zorder=1,
        )
        ax.add_patch(arrow)
        if edge.kind in ("if", "else"):
            ax.text(  # nearer the condition, clear of the boxes below
                x1 + (x2 - x1) * 0.35,
                y1 - box_h / 2 + (y2 - y1 + box_h) * 0.35,
                edge.kind,
                ha="center",
                va="center",
                fontsize=9,
                fontweight="bold",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
            )
    for node_id, node in graph.nodes.items():
        x, y = positions[node_id]
        colour = (
            STATUS_COLOURS.get(node.status)
            if node.status
            else TYPE_COLOURS.get(node.kind, "#ffffff")
        )
        ax.add_patch(
            FancyBboxPatch(
                (x - box_w / 2, y - box_h / 2),
                box_w,
                box_h,
                boxstyle="round,pad=0.02,rounding_size=0.15",
                fc=colour,
                ec="#555555",
                linewidth=1.0,
                linestyle="--" if node.status == "NotExecuted" else "-",
            )
        )
        detail = node.detail + (f" · {node.status}" if node.status else "")
        label = node.label if len(node.label) <= 34 else node.label[:31] + "..."
        ax.text(x, y + 0.12, label, ha="center", va="center", fontsize=8.5, fontweight="bold")
        ax.text(x, y - 0.22, detail, ha="center", va="center", fontsize=7.5, color="#333333")
    ax.set_xlim(-width / 2 - 0.2, width / 2 + 0.2)
    ax.set_ylim(-(depth - 1) * (box_h + gap_y) - box_h, box_h)
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=fmt, dpi=110)
    plt.close(fig)
    return path


def main(argv=None) -> None:
    """``python -m smlocal.graph DEFINITION.json OUT.(png|svg) [--statuses STATUSES.json]``."""
    import argparse

    parser = argparse.ArgumentParser("pipeline-graph")
    parser.add_argument("definition")
    parser.add_argument("out")
    parser.add_argument("--statuses", default=None, help="a JSON object: step name -> status")
    parser.add_argument("--title", default=None)
    args = parser.parse_args(argv)
    statuses = json.loads(Path(args.statuses).read_text()) if args.statuses else None
    render(build(Path(args.definition).read_text(), statuses), args.out, args.title)


if __name__ == "__main__":
    main()
