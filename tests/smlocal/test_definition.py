"""Reading definitions into plans: what runs, in which order, and what is refused up front."""

import json

import pytest

from smlocal.definition import ParameterSpec, check, parse, parse_parameters
from smlocal.engine import compile_plan
from smlocal.errors import DefinitionError


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
    with pytest.raises(DefinitionError, match="'Tune'.*type 'Futuristic'"):
        compile_plan({"Steps": [step("Tune", "Futuristic", {})]})


@pytest.mark.parametrize(
    "step_type,feature",
    [
        ("QualityCheck", "Model Monitor data or model quality check"),
        ("ClarifyCheck", "SageMaker Clarify bias or explainability check"),
        ("EMR", "step on an Amazon EMR cluster"),
        ("AutoML", "Autopilot AutoML job"),
        ("NotebookJob", "notebook job"),
    ],
)
def test_steps_sagemaker_runs_elsewhere_are_refused_by_their_feature(step_type, feature):
    with pytest.raises(DefinitionError) as refused:
        compile_plan({"Steps": [step("S", step_type, {})]})
    assert str(refused.value).startswith(f"step 'S' has type '{step_type}': a")
    assert feature in str(refused.value)


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


def test_processing_without_a_python_entry_point_is_refused_under_the_path_map(monkeypatch):
    # only Python sees /opt/ml through the path map; namespaces run any entry point
    monkeypatch.setenv("PIPELINES_LOCAL_CONTAINER", "map")
    args = {"AppSpecification": {"ImageUri": "img", "ContainerEntrypoint": ["bash", "run.sh"]}}
    with pytest.raises(DefinitionError, match="entry point 'bash' is not supported locally"):
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


def test_every_step_that_cannot_run_is_named_in_one_line():
    hyperband = {
        "HyperParameterTuningJobConfig": {"Strategy": "Hyperband"},
        "TrainingJobDefinition": {},
    }
    definition = {
        "Steps": [
            step("Check", "QualityCheck", {}),
            step("Fine"),
            step("Cluster", "EMR", {}),
            step("Tune", "Tuning", hyperband),
        ]
    }
    with pytest.raises(DefinitionError) as refused:
        compile_plan(definition)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(
        "the local target cannot run 3 steps: "
        "'Check' (type QualityCheck: a Model Monitor data or model quality check), "
        "'Cluster' (type EMR: a step on an Amazon EMR cluster), "
        "'Tune' (The Hyperband strategy is not supported locally"
    )
    assert "it runs the step types " in message and "Tuning" in message
    assert "Fine" not in message


def test_the_definitions_own_faults_are_listed_with_the_executors():
    definition = {
        "Steps": [
            step("A", arguments={"ErrorMessage": {"Std:Concat": ["a"]}}),
            step("B", DependsOn=["Ghost"]),
            step("C", "Condition", {"Conditions": [{"Type": "Between"}]}),
        ]
    }
    with pytest.raises(DefinitionError) as refused:
        compile_plan(definition)
    message = str(refused.value)
    assert message.startswith(
        "the local target cannot run 3 steps: 'A' (uses the function 'Std:Concat'"
    )
    assert "'B' (depends on an unknown step 'Ghost')" in message
    assert "'C' (" in message and "condition type 'Between'" in message
    assert "it runs the step types" not in message  # no step type is at fault


def test_steps_inside_condition_branches_are_listed_too():
    definition = {
        "Steps": [
            step("Check", "Condition", {"Conditions": [], "IfSteps": [step("T", "AutoML", {})]}),
            step("E", "EMR", {}),
        ]
    }
    with pytest.raises(
        DefinitionError, match=r"cannot run 2 steps: 'T' \(type AutoML: .*\), 'E' \(type EMR: "
    ):
        compile_plan(definition)


def test_a_single_refusal_keeps_its_own_message():
    with pytest.raises(DefinitionError) as refused:
        compile_plan({"Steps": [step("Job", "NotebookJob", {}), step("Fine")]})
    assert str(refused.value).startswith(
        "step 'Job' has type 'NotebookJob': a notebook job, which the local target does not run "
        "(it runs: "
    )


def test_a_structural_fault_is_reported_alone():
    with pytest.raises(DefinitionError) as refused:
        compile_plan({"Steps": [step("T", "Tuning", {}), step("T", "Lambda", {})]})
    assert str(refused.value) == "step name 'T' is used twice"
    with pytest.raises(DefinitionError, match="^a step needs Name and Type"):
        compile_plan({"Steps": [step("T", "Tuning", {}), {"Name": "NoType"}]})


def test_a_cycle_is_reported_once_the_steps_themselves_pass():
    with pytest.raises(DefinitionError, match="^the steps form a cycle"):
        compile_plan({"Steps": [step("A", DependsOn=["B"]), step("B", DependsOn=["A"])]})


def test_check_is_the_local_targets_whole_check():
    with pytest.raises(DefinitionError, match="cannot run 2 steps"):
        check({"Steps": [step("T", "Tuning", {}), step("L", "Lambda", {})]})
    plan = check(json.dumps({"Steps": [step("A")]}))
    assert list(plan.steps) == ["A"]


def test_the_parameters_are_read_without_the_steps():
    definition = {
        "Parameters": [{"Name": "N", "Type": "Integer", "DefaultValue": 1}],
        "Steps": [step("T", "Tuning", {})],
    }
    assert parse_parameters(json.dumps(definition)) == {"N": ParameterSpec("N", "Integer", 1)}
    with pytest.raises(DefinitionError, match="declared twice"):
        parse_parameters({"Parameters": [{"Name": "N"}, {"Name": "N"}]})


@pytest.mark.parametrize(
    "bad_step, message",
    [
        ({"Name": 5, "Type": "Fail"}, "step Name must be a string, got 5"),
        ({"Name": [1], "Type": "Fail"}, r"step Name must be a string, got \[1\]"),
        ({"Name": "", "Type": "Fail"}, "step Name '' must have 1 to 64 characters"),
        ({"Name": "../../..", "Type": "Fail"}, "'../../..' does not match SageMaker's pattern"),
        ({"Name": "/tmp/x", "Type": "Fail"}, "'/tmp/x' does not match SageMaker's pattern"),
        ({"Name": "a" * 65, "Type": "Fail"}, "must have 1 to 64 characters"),
        ({"Name": "A", "Type": 3}, "step 'A': Type must be a string, got 3"),
        ({"Name": "A", "Type": "Fail", "Arguments": [1]}, "Arguments must be a JSON object"),
        ({"Name": "A", "Type": "Fail", "DependsOn": "B"}, "DependsOn must be a list of step names"),
        (
            {"Name": "A", "Type": "Fail", "DependsOn": [{}]},
            "DependsOn must be a list of step names",
        ),
        ({"Name": "A", "Type": "Fail", "DependsOn": ["A"]}, "step 'A' depends on itself"),
        ({"Name": "A", "Type": "Fail", "RetryPolicies": {}}, "RetryPolicies must be a list"),
    ],
)
def test_step_fields_of_the_wrong_shape_are_refused_in_one_line(bad_step, message):
    """Names become folder names: SageMaker's own step-name pattern (botocore's) keeps them one."""
    with pytest.raises(DefinitionError, match=message):
        parse({"Steps": [step("Ok"), {"Arguments": {"ErrorMessage": "x"}, **bad_step}]})


def test_parameters_of_the_wrong_shape_are_refused():
    with pytest.raises(DefinitionError, match=r"Parameters must be a list of parameters, got \{"):
        parse({"Parameters": {"a": 1}, "Steps": [step("A")]})
    with pytest.raises(
        DefinitionError, match="a parameter must be a JSON object with a Name, got 'a'"
    ):
        parse({"Parameters": ["a"], "Steps": [step("A")]})
    with pytest.raises(DefinitionError, match="parameter Name 'a.b' does not match"):
        parse({"Parameters": [{"Name": "a.b"}], "Steps": [step("A")]})
    with pytest.raises(DefinitionError, match="Steps must be a list of steps"):
        parse({"Steps": {"Name": "A"}})


def test_a_long_chain_is_checked_for_cycles_without_recursion():
    chain = [step("S0")] + [step(f"S{i}", DependsOn=[f"S{i - 1}"]) for i in range(1, 3000)]
    assert len(parse({"Steps": chain}).steps) == 3000
    chain[0] = step("S0", DependsOn=["S2999"])
    with pytest.raises(DefinitionError, match="the steps form a cycle: S0 -> S2999 -> S2998"):
        parse({"Steps": chain})
