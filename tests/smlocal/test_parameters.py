"""Start-time parameters: defaults, overrides as SageMaker sends them (strings), types checked."""

import json

import pytest

from smlocal.definition import ParameterSpec, parse_parameters
from smlocal.errors import ParameterError
from smlocal.parameters import check, check_overrides, resolve

SPECS = {
    "Count": ParameterSpec("Count", "Integer", 1),
    "Threshold": ParameterSpec("Threshold", "Float", 6.0),
    "Flag": ParameterSpec("Flag", "Boolean", False),
    "Status": ParameterSpec("Status", "String", "PendingManualApproval"),
}


def test_defaults():
    assert resolve(SPECS, None) == {
        "Count": 1,
        "Threshold": 6.0,
        "Flag": False,
        "Status": "PendingManualApproval",
    }


def test_overrides_arrive_as_strings_and_are_typed():
    values = resolve(
        SPECS, {"Count": "3", "Threshold": "3.5", "Flag": "true", "Status": "Approved"}
    )
    assert values == {"Count": 3, "Threshold": 3.5, "Flag": True, "Status": "Approved"}


def test_native_values_are_accepted():
    assert resolve(SPECS, {"Count": 2, "Threshold": 4, "Flag": True})["Threshold"] == 4.0


@pytest.mark.parametrize(
    "name,value",
    [
        ("Count", "1.5"),
        ("Count", "three"),
        ("Count", True),
        ("Threshold", "high"),
        ("Flag", "yes"),
        ("Status", {"a": 1}),
    ],
)
def test_bad_values_name_the_parameter_and_type(name, value):
    with pytest.raises(ParameterError, match=f"parameter '{name}' is {SPECS[name].type}"):
        resolve(SPECS, {name: value})


def test_unknown_parameter_is_refused():
    with pytest.raises(ParameterError, match="unknown parameter.*Treshold"):
        resolve(SPECS, {"Treshold": "1"})


def test_a_parameter_without_default_must_be_given():
    with pytest.raises(ParameterError, match="no default"):
        resolve({"X": ParameterSpec("X", "String")}, {})


def test_enum_values_are_enforced():
    specs = {"Mode": ParameterSpec("Mode", "String", "a", ("a", "b"))}
    assert resolve(specs, {"Mode": "b"}) == {"Mode": "b"}
    with pytest.raises(ParameterError, match="not one of a, b"):
        resolve(specs, {"Mode": "c"})


DEFINITION = {
    "Parameters": [
        {"Name": "Count", "Type": "Integer", "DefaultValue": 1},
        {"Name": "Mode", "Type": "String", "DefaultValue": "a", "EnumValues": ["a", "b"]},
        {"Name": "Required", "Type": "String"},
    ],
    "Steps": [{"Name": "T", "Type": "Tuning", "Arguments": {}}],  # steps are not read
}


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"Count": "two"}, "parameter 'Count' is Integer; 'two' is not a valid Integer value"),
        ({"Mode": "c"}, "parameter 'Mode': 'c' is not one of a, b"),
        ({"Nope": 1}, "unknown parameter(s) Nope; the pipeline declares: Count, Mode, Required"),
    ],
)
def test_check_refuses_what_the_definitions_parameters_cannot_take(overrides, message):
    with pytest.raises(ParameterError) as refused:
        check(json.dumps(DEFINITION), overrides)
    assert str(refused.value) == message


def test_check_leaves_missing_values_to_the_target():
    check(DEFINITION, {"Count": "3", "Mode": "b"})
    check(DEFINITION, None)


def test_check_overrides_types_only_what_was_given():
    specs = parse_parameters(DEFINITION)
    assert check_overrides(specs, {"Count": "3"}) == {"Count": 3}
