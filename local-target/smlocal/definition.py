"""Reads a pipeline definition JSON into a plan: parameters, steps and their dependencies.

Everything the local target cannot run is refused here, before any step starts, with the
name of the step type or function that is missing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from smlocal import shapes
from smlocal.errors import DefinitionError

PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")
FUNCTIONS = ("Get", "Std:Join", "Std:JsonGet")
EXECUTION_VARIABLES = (
    "StartDateTime",
    "CurrentDateTime",
    "PipelineName",
    "PipelineArn",
    "PipelineExecutionId",
    "PipelineExecutionArn",
)
STEP_REF = re.compile(r"^Steps\.([^.\[]+)")
# Step types the local target does not run, by the feature SageMaker runs for them.
FEATURES = {
    "QualityCheck": "a Model Monitor data or model quality check",
    "ClarifyCheck": "a SageMaker Clarify bias or explainability check",
    "EMR": "a step on an Amazon EMR cluster",
    "EMRServerless": "an EMR Serverless job",
    "AutoML": "an Autopilot AutoML job",
    "NotebookJob": "a notebook job",
    "Endpoint": "a real-time endpoint deployment",
    "EndpointConfig": "a real-time endpoint configuration",
}


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    type: str
    default: Any = None
    enum_values: Optional[tuple] = None


@dataclass(frozen=True)
class Branch:
    """A step inside a condition's IfSteps (``outcome`` True) or ElseSteps (False)."""

    condition: str
    outcome: bool


@dataclass
class StepSpec:
    name: str
    type: str
    arguments: dict
    raw: dict
    depends_on: tuple[str, ...] = ()
    branch: Optional[Branch] = None
    upstream: set[str] = field(default_factory=set)

    @property
    def display_name(self) -> Optional[str]:
        return self.raw.get("DisplayName")

    @property
    def description(self) -> Optional[str]:
        return self.raw.get("Description")

    @property
    def property_files(self) -> list[dict]:
        return list(self.raw.get("PropertyFiles") or [])

    @property
    def cache_config(self) -> dict:
        return dict(self.raw.get("CacheConfig") or {})

    @property
    def retry_policies(self) -> list[dict]:
        return list(self.raw.get("RetryPolicies") or [])


@dataclass
class Plan:
    """The definition, checked and indexed: what the engine runs."""

    version: str
    parameters: dict[str, ParameterSpec]
    steps: dict[str, StepSpec]

    def downstream(self, name: str) -> list[str]:
        return [s.name for s in self.steps.values() if name in s.upstream]


def iter_functions(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (function name, argument) in a JSON value, outermost first."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key in FUNCTIONS or key.startswith("Std:"):
                yield key, arg
        for item in value.values():
            yield from iter_functions(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_functions(item)


def referenced_steps(value: Any) -> set[str]:
    """Names of the steps whose properties (or property files) a value reads."""
    names = set()
    for func, arg in iter_functions(value):
        if func == "Get" and isinstance(arg, str):
            match = STEP_REF.match(arg)
            if match:
                names.add(match.group(1))
    return names


def _parse_parameter(raw: Any) -> ParameterSpec:
    if not isinstance(raw, dict):
        raise DefinitionError(f"a parameter must be a JSON object with a Name, got {_short(raw)}")
    name = raw.get("Name")
    ptype = raw.get("Type", "String")
    if not name:
        raise DefinitionError(f"parameter without a Name: {raw}")
    problem = shapes.name_problem(name, "PipelineParameterName")
    if problem:
        raise DefinitionError(f"parameter Name {problem}")
    if ptype not in PARAMETER_TYPES:
        raise DefinitionError(
            f"parameter {name!r} has type {ptype!r}; supported: {', '.join(PARAMETER_TYPES)}"
        )
    enum = raw.get("EnumValues")
    if enum is not None and not isinstance(enum, list):
        raise DefinitionError(f"parameter {name!r}: EnumValues must be a list, got {_short(enum)}")
    return ParameterSpec(name, ptype, raw.get("DefaultValue"), tuple(enum) if enum else None)


def _flatten_steps(raw_steps: Any, branch: Optional[Branch] = None) -> Iterator[StepSpec]:
    where = f"the IfSteps/ElseSteps of {branch.condition!r}" if branch else "Steps"
    if not isinstance(raw_steps, list):
        raise DefinitionError(f"{where} must be a list of steps, got {_short(raw_steps)}")
    for raw in raw_steps:
        _check_step_shape(raw)
        arguments = raw.get("Arguments") or {}
        spec = StepSpec(
            name=raw["Name"],
            type=raw["Type"],
            arguments=arguments,
            raw=raw,
            depends_on=tuple(raw.get("DependsOn") or ()),
            branch=branch,
        )
        yield spec
        if raw["Type"] == "Condition":
            yield from _flatten_steps(arguments.get("IfSteps") or [], Branch(raw["Name"], True))
            yield from _flatten_steps(arguments.get("ElseSteps") or [], Branch(raw["Name"], False))


def _short(value: Any) -> str:
    return repr(value)[:200]


def _check_step_shape(raw: Any) -> None:
    """A step's fields of the types SageMaker's definition schema gives them.

    Its name becomes its folder's name: SageMaker's own pattern for step names keeps it one.
    """
    if not isinstance(raw, dict) or "Name" not in raw or "Type" not in raw:
        raise DefinitionError(f"a step needs Name and Type: {_short(raw)}")
    problem = shapes.name_problem(raw["Name"], "StepName")
    if problem:
        raise DefinitionError(f"step Name {problem}")
    name = raw["Name"]
    if not isinstance(raw["Type"], str):
        raise DefinitionError(f"step {name!r}: Type must be a string, got {_short(raw['Type'])}")
    if not isinstance(raw.get("Arguments", {}), (dict, type(None))):
        raise DefinitionError(
            f"step {name!r}: Arguments must be a JSON object, got {_short(raw['Arguments'])}"
        )
    depends_on = raw.get("DependsOn")
    if depends_on is None:
        depends_on = []
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        raise DefinitionError(
            f"step {name!r}: DependsOn must be a list of step names, got {_short(depends_on)}"
        )
    if name in depends_on:
        raise DefinitionError(f"step {name!r} depends on itself")
    for key in ("PropertyFiles", "RetryPolicies"):
        if not isinstance(raw.get(key, []), (list, type(None))):
            raise DefinitionError(f"step {name!r}: {key} must be a list, got {_short(raw[key])}")
    if not isinstance(raw.get("CacheConfig", {}), (dict, type(None))):
        raise DefinitionError(
            f"step {name!r}: CacheConfig must be a JSON object, got {_short(raw['CacheConfig'])}"
        )


def _check_functions(step: StepSpec, parameters: dict, steps: dict) -> None:
    for func, arg in iter_functions(_step_scope(step)):
        if func not in FUNCTIONS:
            raise DefinitionError(
                f"step {step.name!r} uses the function {func!r}, which the local target does not support"
            )
        if func == "Get":
            if not isinstance(arg, str):
                raise DefinitionError(f"step {step.name!r}: Get takes a string, got {arg!r}")
            root, _, rest = arg.partition(".")
            if root == "Parameters" and rest not in parameters:
                raise DefinitionError(f"step {step.name!r} reads an undeclared parameter {rest!r}")
            if root == "Execution" and rest not in EXECUTION_VARIABLES:
                raise DefinitionError(
                    f"step {step.name!r} reads the execution variable {rest!r}, which the local target does not support"
                )
            if root == "Steps":
                ref = STEP_REF.match(arg).group(1)
                if ref not in steps:
                    raise DefinitionError(
                        f"step {step.name!r} reads properties of an unknown step {ref!r}"
                    )
            if root not in ("Parameters", "Execution", "Steps"):
                raise DefinitionError(f"step {step.name!r}: cannot Get {arg!r}")


def _step_scope(step: StepSpec) -> dict:
    """What a step itself evaluates: its fields and its own arguments."""
    return {
        **{k: v for k, v in step.raw.items() if k != "Arguments"},
        "Arguments": own_arguments(step),
    }


def own_arguments(step: StepSpec) -> dict:
    """A condition's arguments without its branches (those are steps of their own)."""
    if step.type != "Condition":
        return step.arguments
    return {k: v for k, v in step.arguments.items() if k not in ("IfSteps", "ElseSteps")}


def load(definition: str | dict) -> dict:
    """The definition as a JSON object; what is not one cannot be read any further."""
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except json.JSONDecodeError as err:
            raise DefinitionError(f"the pipeline definition is not valid JSON: {err}") from None
    if not isinstance(definition, dict):
        raise DefinitionError("the pipeline definition must be a JSON object")
    return definition


def parse_parameters(definition: str | dict) -> dict[str, ParameterSpec]:
    """The declared parameters alone: enough to check start-time overrides on any target."""
    parameters: dict[str, ParameterSpec] = {}
    declared = load(definition).get("Parameters") or []
    if not isinstance(declared, list):
        raise DefinitionError(f"Parameters must be a list of parameters, got {_short(declared)}")
    for raw in declared:
        spec = _parse_parameter(raw)
        if spec.name in parameters:
            raise DefinitionError(f"parameter {spec.name!r} is declared twice")
        parameters[spec.name] = spec
    return parameters


def _index_steps(definition: dict) -> dict[str, StepSpec]:
    steps: dict[str, StepSpec] = {}
    for spec in _flatten_steps(definition.get("Steps") or []):
        if spec.name in steps:
            raise DefinitionError(f"step name {spec.name!r} is used twice")
        steps[spec.name] = spec
    if not steps:
        raise DefinitionError("the pipeline definition has no steps")
    return steps


class UnsupportedType(DefinitionError):
    """A step type without an executor; several are listed by type alone."""

    def __init__(self, step: StepSpec, supported_types: set[str]):
        feature = f": {FEATURES[step.type]}" if step.type in FEATURES else ""
        super().__init__(
            f"step {step.name!r} has type {step.type!r}{feature}, which the local target does "
            f"not run (it runs: {', '.join(sorted(supported_types))})"
        )
        self.short = f"type {step.type}{feature}"
        self.supported_types = supported_types


def _check_step(
    spec: StepSpec,
    parameters: dict,
    steps: dict,
    supported_types: Optional[set[str]],
    validate: Optional[Callable[[StepSpec], None]],
) -> None:
    if supported_types is not None and spec.type not in supported_types:
        raise UnsupportedType(spec, supported_types)
    _check_functions(spec, parameters, steps)
    for dep in spec.depends_on:
        if dep not in steps:
            raise DefinitionError(f"step {spec.name!r} depends on an unknown step {dep!r}")
    if validate is not None:
        validate(spec)


def _reason(name: str, err: DefinitionError) -> str:
    """What is wrong with one step, without its name (the list names it)."""
    if isinstance(err, UnsupportedType):
        return err.short
    message = str(err)
    for prefix in (f"step {name!r}: ", f"step {name!r} "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def refusal(errors: dict[str, DefinitionError]) -> DefinitionError:
    """One error for every step refused, so the user fixes them all in one go.

    A single step keeps its own message; several are listed in one line.
    """
    if len(errors) == 1:
        return next(iter(errors.values()))
    listed = ", ".join(f"{name!r} ({_reason(name, err)})" for name, err in errors.items())
    message = f"the local target cannot run {len(errors)} steps: {listed}"
    supported = next(
        (e.supported_types for e in errors.values() if isinstance(e, UnsupportedType)), None
    )
    if supported:
        message += f"; it runs the step types {', '.join(sorted(supported))}"
    return DefinitionError(message)


def parse(
    definition: str | dict,
    supported_types: Optional[set[str]] = None,
    validate: Optional[Callable[[StepSpec], None]] = None,
) -> Plan:
    """Check a definition and build its plan.

    Args:
        definition: the pipeline definition, JSON text or parsed.
        supported_types: the runnable step types (None: any).
        validate: a further check of each step (an executor's), raising DefinitionError.

    Raises:
        DefinitionError: a structural fault alone, or every step that cannot run, at once.
    """
    definition = load(definition)
    _check_mlflow(definition)
    parameters = parse_parameters(definition)
    steps = _index_steps(definition)
    errors: dict[str, DefinitionError] = {}
    for spec in steps.values():
        try:
            _check_step(spec, parameters, steps, supported_types, validate)
        except DefinitionError as err:
            errors[spec.name] = err
            continue
        spec.upstream = set(spec.depends_on) | referenced_steps(_step_scope(spec))
        if spec.branch:
            spec.upstream.add(spec.branch.condition)
        spec.upstream.discard(spec.name)
    if errors:
        raise refusal(errors)
    _check_acyclic(steps)
    return Plan(str(definition.get("Version", "")), parameters, steps)


def _check_mlflow(definition: dict) -> None:
    """Refuse a definition's ``MlflowConfig`` by name: its metrics would go nowhere locally.

    SDK 3.x writes ``"MlflowConfig": null`` into every definition; only a set one is refused.
    """
    mlflow = definition.get("MlflowConfig")
    if mlflow is None:
        return
    where = mlflow.get("MlflowResourceArn") if isinstance(mlflow, dict) else None
    raise DefinitionError(
        f"MlflowConfig (MLflow tracking server {where!r}): the local target does not log pipeline "
        "metrics to MLflow; build the Pipeline without mlflow_config to run it locally"
    )


def check(definition: str | dict) -> Plan:
    """The local target's whole check of a definition, as CreatePipeline makes it.

    Public so a CLI can refuse a definition before it creates anything.

    Raises:
        DefinitionError: one line naming every step the local target cannot run.
    """
    from smlocal.engine import compile_plan  # the executors' checks; engine imports this module

    return compile_plan(definition)


def _check_acyclic(steps: dict[str, StepSpec]) -> None:
    """Refuse a cycle, naming its steps; iterative, so a chain of any length is checked."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in steps:
        if state.get(start):
            continue
        trail = [start]
        stack = [iter(sorted(steps[start].upstream))]
        state[start] = 1
        while stack:
            up = next(stack[-1], None)
            if up is None:
                state[trail.pop()] = 2
                stack.pop()
            elif state.get(up) == 1:
                cycle = trail[trail.index(up) :] + [up]
                raise DefinitionError(f"the steps form a cycle: {' -> '.join(cycle)}")
            elif not state.get(up):
                state[up] = 1
                trail.append(up)
                stack.append(iter(sorted(steps[up].upstream)))
