"""Start-time parameters: defaults, overrides as SageMaker sends them (strings), types checked."""

import pytest

from pipelines.local.definition import ParameterSpec
from pipelines.local.errors import ParameterError
from pipelines.local.parameters import resolve

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
