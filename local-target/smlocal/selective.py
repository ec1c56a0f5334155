"""Selective execution: which steps run, and which source results the others provide.

SageMaker's rules (StartPipelineExecution's ``SelectiveExecutionConfig``): the selected steps
exist, and every step on a path between two selected steps is selected too; the steps they
read from (properties, property files, ``DependsOn``, a condition's outcome) but that are not
selected must have succeeded in the source execution, an execution of the same pipeline that
ended Succeeded or Failed; without a source, selected steps may not read from others. Steps
downstream of the selection do not run.
"""

from __future__ import annotations

from typing import Optional

from smlocal.definition import Plan
from smlocal.engine import Selection
from smlocal.errors import LocalTargetError
from smlocal.executions import ExecutionStore

SOURCE_STATUSES = ("Succeeded", "Failed")


class SelectionRefused(LocalTargetError):
    """A SelectiveExecutionConfig SageMaker would refuse (ValidationException)."""


def _reach(plan: Plan, start: str, forward: bool) -> set[str]:
    """Every step downstream (``forward``) or upstream of ``start``, itself excluded."""
    found: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        nexts = plan.downstream(name) if forward else plan.steps[name].upstream
        for other in nexts:
            if other not in found:
                found.add(other)
                todo.append(other)
    return found


def _check_connected(plan: Plan, selected: set[str]) -> None:
    for first in sorted(selected):
        below = _reach(plan, first, forward=True)
        for last in sorted(selected & below):
            between = below & _reach(plan, last, forward=False)
            missing = sorted(between - selected)
            if missing:
                raise SelectionRefused(
                    f"SelectedSteps must include every step on the paths between selected steps: "
                    f"{', '.join(missing)} lie between {first} and {last}"
                )


def select(
    plan: Plan, config: Optional[dict], pipeline_name: str, history: ExecutionStore
) -> Optional[Selection]:
    """The Selection a SelectiveExecutionConfig asks for, or None for a full execution.

    Raises:
        SelectionRefused: as SageMaker refuses the config, naming the steps concerned.
    """
    if not config:
        return None
    selected = [s["StepName"] for s in config.get("SelectedSteps") or []]
    unknown = [s for s in selected if s not in plan.steps]
    if unknown:
        raise SelectionRefused(
            f"Selected step(s) {', '.join(unknown)} are not steps of pipeline {pipeline_name}"
        )
    chosen = set(selected)
    _check_connected(plan, chosen)
    needed = sorted({u for s in chosen for u in plan.steps[s].upstream} - chosen)
    source_arn = config.get("SourcePipelineExecutionArn")
    if not source_arn:
        if needed:
            raise SelectionRefused(
                f"The selected steps depend on steps that are not selected ({', '.join(needed)}): "
                "give a SourcePipelineExecutionArn whose results they can use"
            )
        return Selection(chosen)
    source = history.execution(source_arn)
    if source is None or source["pipeline_name"] != pipeline_name:
        raise SelectionRefused(
            f"The source execution {source_arn} is not an execution of pipeline {pipeline_name}"
        )
    if source["status"] not in SOURCE_STATUSES:
        raise SelectionRefused(
            f"The source execution {source_arn} is {source['status']}: it must have ended "
            f"{' or '.join(SOURCE_STATUSES)}"
        )
    records = {s.name: s for s in history.steps(source_arn)}
    unusable = [u for u in needed if u not in records or records[u].status != "Succeeded"]
    if unusable:
        raise SelectionRefused(
            f"The source execution {source_arn} cannot provide the results of "
            f"{', '.join(unusable)}, which the selected steps depend on: they did not succeed "
            "in it; select them too, or choose another source execution"
        )
    return Selection(chosen, source_arn, {u: records[u] for u in needed})
