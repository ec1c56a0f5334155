"""Get, Std:Join, Std:JsonGet and every condition type, on values a run would hold."""

import pytest

from smlocal.expressions import (
    ExpressionError,
    Scope,
    check_condition,
    evaluate,
    parse_path,
)

PROPS = {
    "ProcessingOutputConfig": {
        "Outputs": [
            {"OutputName": "train", "S3Output": {"S3Uri": "s3://b/train"}},
            {"OutputName": "test", "S3Output": {"S3Uri": "s3://b/test"}},
        ]
    },
    "ModelArtifacts": {"S3ModelArtifacts": "s3://b/model.tar.gz"},
    "FinalMetricDataList": [{"MetricName": "validation:rmse", "Value": 2.5}],
}


@pytest.fixture
def scope():
    return Scope(
        parameters={"Threshold": 6.0, "Name": "abalone", "Count": 2},
        execution={"PipelineExecutionId": "abc123", "PipelineName": "P"},
        step_properties={"Prep": PROPS, "Train": PROPS},
        property_files={
            "Eval": {
                "Report": {"regression_metrics": {"mse": {"value": 4.9}}, "items": [1, {"k": "v"}]}
            }
        },
        read_json=lambda uri: {"from": uri},
    )


def test_parse_path():
    assert parse_path("a.b['c d'][0].e") == ["a", "b", "c d", 0, "e"]
    assert parse_path('x["y"][-1]') == ["x", "y", -1]


def test_get_parameters_execution_and_step_properties(scope):
    assert evaluate({"Get": "Parameters.Threshold"}, scope) == 6.0
    assert evaluate({"Get": "Execution.PipelineExecutionId"}, scope) == "abc123"
    ref = "Steps.Prep.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"
    assert evaluate({"Get": ref}, scope) == "s3://b/test"
    assert (
        evaluate({"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}, scope)
        == "s3://b/model.tar.gz"
    )
    assert (
        evaluate({"Get": "Steps.Train.FinalMetricDataList['validation:rmse'].Value"}, scope) == 2.5
    )


def test_get_of_a_missing_property_is_an_error(scope):
    with pytest.raises(ExpressionError, match="no 'missing'"):
        evaluate(
            {"Get": "Steps.Prep.ProcessingOutputConfig.Outputs['missing'].S3Output.S3Uri"}, scope
        )
    with pytest.raises(ExpressionError, match="has not run"):
        evaluate({"Get": "Steps.Later.Anything"}, scope)


def test_join_renders_values(scope):
    value = {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3:/",
                "bucket",
                {"Get": "Execution.PipelineExecutionId"},
                {"Get": "Parameters.Count"},
            ],
        }
    }
    assert evaluate(value, scope) == "s3://bucket/abc123/2"


def test_json_get_from_property_file_and_s3(scope):
    pf = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"},
            "Path": "regression_metrics.mse.value",
        }
    }
    assert evaluate(pf, scope) == 4.9
    nested = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"},
            "Path": "items[1].k",
        }
    }
    assert evaluate(nested, scope) == "v"
    s3 = {"Std:JsonGet": {"S3Uri": "s3://b/r.json", "Path": "from"}}
    assert evaluate(s3, scope) == "s3://b/r.json"


def test_json_get_of_a_missing_key_is_an_error(scope):
    pf = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"},
            "Path": "regression_metrics.rmse.value",
        }
    }
    with pytest.raises(ExpressionError, match="rmse"):
        evaluate(pf, scope)


def test_nested_structures_are_evaluated(scope):
    value = {"A": [{"Get": "Parameters.Name"}, 1], "B": {"C": {"Get": "Parameters.Count"}}}
    assert evaluate(value, scope) == {"A": ["abalone", 1], "B": {"C": 2}}


@pytest.mark.parametrize(
    "ctype,left,right,expected",
    [
        ("Equals", 1, 1, True),
        ("Equals", "a", "b", False),
        ("GreaterThan", 5, 4.9, True),
        ("GreaterThan", 4.9, 5, False),
        ("GreaterThanOrEqualTo", 5, 5, True),
        ("LessThan", 4, 5, True),
        ("LessThanOrEqualTo", 4.9, 6.0, True),
        ("LessThanOrEqualTo", 6.1, 6.0, False),
        ("LessThanOrEqualTo", "4.9", 6.0, True),
    ],
)
def test_comparisons(ctype, left, right, expected):
    assert check_condition({"Type": ctype, "LeftValue": left, "RightValue": right}) is expected


def test_in_not_or():
    assert check_condition({"Type": "In", "QueryValue": "b", "Values": ["a", "b"]})
    assert not check_condition({"Type": "In", "QueryValue": 3, "Values": [1, 2]})
    assert check_condition(
        {"Type": "Not", "Condition": {"Type": "Equals", "LeftValue": 1, "RightValue": 2}}
    )
    assert check_condition(
        {
            "Type": "Or",
            "Conditions": [
                {"Type": "Equals", "LeftValue": 1, "RightValue": 2},
                {"Type": "LessThan", "LeftValue": 1, "RightValue": 2},
            ],
        }
    )
    assert not check_condition({"Type": "Or", "Conditions": []})


def test_incomparable_values_are_an_error():
    with pytest.raises(ExpressionError, match="cannot compare"):
        check_condition({"Type": "GreaterThan", "LeftValue": "abc", "RightValue": 1})
