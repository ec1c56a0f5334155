"""Live progress of an execution for people at a terminal: a line per step state change, then a table.

Reads only the execution's public API (describe, list_steps), so it would follow a SageMaker
execution as well; the CLI uses it for local runs, where steps change state in seconds.
"""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO

FINAL = ("Succeeded", "Failed", "Stopped")
METADATA_TYPES = {
    "ProcessingJob": "Processing",
    "TrainingJob": "Training",
    "TransformJob": "Transform",
    "Model": "Model",
    "Condition": "Condition",
    "RegisterModel": "RegisterModel",
    "Fail": "Fail",
}


def step_types(definition: dict) -> dict[str, str]:
    """Step name -> type, condition branches included."""
    types: dict[str, str] = {}

    def visit(steps):
        for step in steps:
            types[step["Name"]] = step["Type"]
            if step["Type"] == "Condition":
                visit(step["Arguments"].get("IfSteps", []))
                visit(step["Arguments"].get("ElseSteps", []))

    visit(definition.get("Steps", []))
    return types


def _duration(step: dict) -> Optional[float]:
    start, end = step.get("StartTime"), step.get("EndTime")
    return (end - start).total_seconds() if start and end else None


class Progress:
    def __init__(self, types: dict[str, str], out: TextIO = sys.stdout):
        self.types = types
        self.out = out
        self.seen: dict[str, str] = {}
        self.started = time.monotonic()

    def type_of(self, step: dict) -> str:
        if step["StepName"] in self.types:
            return self.types[step["StepName"]]
        return next(
            (METADATA_TYPES[k] for k in step.get("Metadata", {}) if k in METADATA_TYPES), ""
        )

    def update(self, steps: list[dict]) -> None:
        """Print a line for every step whose status changed since the last call."""
        for step in sorted(steps, key=lambda s: str(s.get("StartTime") or "")):
            name, status = step["StepName"], step["StepStatus"]
            if self.seen.get(name) == status:
                continue
            self.seen[name] = status
            elapsed = time.monotonic() - self.started
            line = f"[{elapsed:6.1f}s] {name:<40} {status}"
            took = _duration(step)
            if status in FINAL and took is not None:
                line += f" ({took:.2f} s)"
            if step.get("CacheHitResult"):
                line += " (cache hit)"
            if status == "Failed" and step.get("FailureReason"):
                line += f": {step['FailureReason'].splitlines()[0][:120]}"
            print(line, file=self.out, flush=True)

    def table(self, steps: list[dict]) -> str:
        rows = [["step", "type", "status", "duration", "cache hit"]]
        for step in sorted(steps, key=lambda s: str(s.get("StartTime") or "")):
            took = _duration(step)
            rows.append(
                [
                    step["StepName"],
                    self.type_of(step),
                    step["StepStatus"],
                    "" if took is None else f"{took:.2f} s",
                    "yes" if step.get("CacheHitResult") else "no",
                ]
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


def follow(
    execution, types: dict[str, str], out: TextIO = sys.stdout, poll_seconds: float = 0.1
) -> str:
    """Print step changes until the execution ends; returns its final status."""
    progress = Progress(types, out)
    while True:
        status = execution.describe()["PipelineExecutionStatus"]
        progress.update(execution.list_steps())
        if status in FINAL:
            return status
        time.sleep(poll_seconds)
