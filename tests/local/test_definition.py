"""Reading definitions into plans: what runs, in which order, and what is refused up front."""

import pytest

from pipelines.local.definition import parse
from pipelines.local.engine import compile_plan
from pipelines.local.errors import DefinitionError


def step(name, type_="Fail", arguments=None, **extra):
    return {"Name": name, "Type": type_, "Arguments": arguments or {"ErrorMessage": "x"}, **extra}


def test_parameters_of_all_four_types():
    plan = parse(
        {
            "Parameters": [
                {"Name": "S", "Type": "String", "DefaultValue": "a"},
                {"Name": "I", "Type": "Integer", "DefaultValue": 1},
                {"Name": "F", "Type": "Float", "DefaultValue": 1.5},
                {"Name": "B", "Type": "Boolean", "DefaultValue": True},
            ],
            "Steps": [step("A")],
        }
    )
    assert {n: (p.type, p.default) for n, p in plan.parameters.items()} == {
        "S": ("String", "a"),
        "I": ("Integer", 1),
        "F": ("Float", 1.5),
        "B": ("Boolean", True),
    }


def test_data_dependencies_and_depends_on_make_edges():
    plan = parse(
        {
            "Steps": [
                step("A"),
                step("B", arguments={"ErrorMessage": {"Get": "Steps.A.Outcome"}}),
                step("C", DependsOn=["A"]),
                step(
                    "D",
                    arguments={
                        "ErrorMessage": {
                            "Std:JsonGet": {
                                "PropertyFile": {"Get": "Steps.B.PropertyFiles.R"},
                                "Path": "x",
                            }
                        }
                    },
                ),
            ]
        }
    )
    assert plan.steps["A"].upstream == set()
    assert plan.steps["B"].upstream == {"A"}
    assert plan.steps["C"].upstream == {"A"}
    assert plan.steps["D"].upstream == {"B"}
    assert sorted(plan.downstream("A")) == ["B", "C"]


def test_condition_branches_become_steps_after_the_condition():
    plan = parse(
        {
            "Steps": [
                step(
                    "Check",
                    "Condition",
                    {"Conditions": [], "IfSteps": [step("Yes")], "ElseSteps": [step("No")]},
                ),
            ]
        }
    )
    assert (
        plan.steps["Yes"].branch.condition == "Check" and plan.steps["Yes"].branch.outcome is True
    )
    assert plan.steps["No"].branch.outcome is False
    assert plan.steps["Yes"].upstream == {"Check"}


def test_unsupported_step_type_is_refused_by_name():
    with pytest.raises(DefinitionError, match="'Tune'.*type 'Tuning'"):
        compile_plan({"Steps": [step("Tune", "Tuning", {})]})


def test_unsupported_function_is_refused_by_name():
    with pytest.raises(DefinitionError, match="function 'Std:Concat'"):
        parse({"Steps": [step("A", arguments={"ErrorMessage": {"Std:Concat": ["a"]}})]})


def test_unknown_references_are_refused():
    with pytest.raises(DefinitionError, match="undeclared parameter 'Nope'"):
        parse({"Steps": [step("A", arguments={"ErrorMessage": {"Get": "Parameters.Nope"}})]})
    with pytest.raises(DefinitionError, match="unknown step 'Ghost'"):
        parse({"Steps": [step("A", arguments={"ErrorMessage": {"Get": "Steps.Ghost.X"}})]})
    with pytest.raises(DefinitionError, match="depends on an unknown step 'Ghost'"):
        parse({"Steps": [step("A", DependsOn=["Ghost"])]})
    with pytest.raises(DefinitionError, match="execution variable 'Nope'"):
        parse({"Steps": [step("A", arguments={"ErrorMessage": {"Get": "Execution.Nope"}})]})


def test_cycles_and_duplicates_are_refused():
    with pytest.raises(DefinitionError, match="cycle"):
        parse({"Steps": [step("A", DependsOn=["B"]), step("B", DependsOn=["A"])]})
    with pytest.raises(DefinitionError, match="used twice"):
        parse({"Steps": [step("A"), step("A")]})


def test_malformed_definitions():
    with pytest.raises(DefinitionError, match="not valid JSON"):
        parse("{nope")
    with pytest.raises(DefinitionError, match="no steps"):
        parse({"Steps": []})
    with pytest.raises(DefinitionError, match="type 'Date'"):
        parse({"Parameters": [{"Name": "D", "Type": "Date"}], "Steps": [step("A")]})


def test_unsupported_condition_type_is_refused():
    with pytest.raises(DefinitionError, match="condition type 'Between'"):
        compile_plan({"Steps": [step("C", "Condition", {"Conditions": [{"Type": "Between"}]})]})


def test_processing_without_a_python_entry_point_is_refused():
    args = {"AppSpecification": {"ImageUri": "img", "ContainerEntrypoint": ["bash", "run.sh"]}}
    with pytest.raises(DefinitionError, match="entry point 'bash'"):
        compile_plan({"Steps": [step("P", "Processing", args)]})


def test_training_with_an_unknown_image_is_refused():
    args = {
        "AlgorithmSpecification": {
            "TrainingImage": "123.dkr.ecr.us-east-1.amazonaws.com/my-image:1",
            "TrainingInputMode": "File",
        }
    }
    with pytest.raises(DefinitionError, match="training image .*my-image"):
        compile_plan({"Steps": [step("T", "Training", args)]})
