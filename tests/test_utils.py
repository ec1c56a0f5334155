"""Parsing of the CLIs' dict and list flags, and loading of pipeline modules."""

import pytest

from pipelines._utils import (
    UsageError,
    convert_struct,
    get_pipeline_driver,
    parse_kwargs,
    parse_tags,
)


@pytest.mark.parametrize(
    "text,expected",
    [
        (None, {}),
        ("", {}),
        ("  ", {}),
        (
            '{"region": "us-east-1", "flag": true, "none": null}',
            {"region": "us-east-1", "flag": True, "none": None},
        ),
        (
            "{'region': 'us-east-1', 'flag': True, 'none': None}",
            {"region": "us-east-1", "flag": True, "none": None},
        ),
        ('[{"Key": "a", "Value": "b"}]', [{"Key": "a", "Value": "b"}]),
    ],
)
def test_json_and_python_literals(text, expected):
    assert convert_struct(text) == expected


@pytest.mark.parametrize("text", ["{region: us-east-1}", "{'a': }", "[1, 2", "__import__('os')"])
def test_malformed_values_name_the_flag(text):
    with pytest.raises(UsageError, match=r"^--kwargs: not valid JSON or a Python literal"):
        convert_struct(text)


def test_kwargs_must_be_a_dict():
    with pytest.raises(UsageError, match="--parameters: expected a dict"):
        parse_kwargs('["a"]', "--parameters")


def test_tags_shape_is_checked():
    assert parse_tags('[{"Key": "k", "Value": "v"}]') == [{"Key": "k", "Value": "v"}]
    assert parse_tags(None) == []
    with pytest.raises(UsageError, match="--tags: expected a list"):
        parse_tags('{"Key": "k"}')
    with pytest.raises(
        UsageError, match="--tags: item 0 must be a dict with exactly the keys Key and Value"
    ):
        parse_tags('[{"Name": "k", "Value": "v"}]')
    with pytest.raises(UsageError, match="Key and Value must be strings"):
        parse_tags('[{"Key": "k", "Value": 1}]')


def test_unknown_module_and_module_without_get_pipeline():
    with pytest.raises(UsageError, match="no module named 'pipelines.nope'"):
        get_pipeline_driver("pipelines.nope", {})
    with pytest.raises(UsageError, match="has no get_pipeline function"):
        get_pipeline_driver("pipelines._utils", {})


def test_unexpected_and_missing_keyword_arguments():
    with pytest.raises(UsageError, match="takes no argument 'sagemaker_project_arn'"):
        get_pipeline_driver(
            "pipelines.abalone.pipeline", {"region": "us-east-1", "sagemaker_project_arn": "x"}
        )
    with pytest.raises(UsageError, match="needs 'region'"):
        get_pipeline_driver("pipelines.abalone.pipeline", {})


@pytest.mark.parametrize(
    "text,why",
    [
        ("[" * 3000 + "]" * 3000, "the value nests more than 32 levels deep"),  # JSON recursion
        ('{"a": ' + "[" * 40 + "]" * 40 + "}", "the value nests more than 32 levels deep"),
        ("{'a': " + "[" * 3000 + "]" * 3000 + "}", "not valid JSON or a Python literal"),
        ('{"a": ' + "9" * 5000 + "}", "not valid JSON or a Python literal"),  # int digit limit
        ("{" * 200000, "not valid JSON or a Python literal"),
    ],
)
def test_values_that_cannot_be_parsed_however_deep_or_large_are_usage_errors(text, why):
    with pytest.raises(UsageError, match=f"^--parameters: {why}") as caught:
        parse_kwargs(text, "--parameters")
    assert "\n" not in str(caught.value)


def test_the_module_name_must_be_a_dotted_name():
    for name in ("", " ", ".abalone", "pipelines..abalone", "a-b"):
        with pytest.raises(UsageError, match="--module-name: .* is not a module name"):
            get_pipeline_driver(name, {})


def test_get_pipeline_must_return_a_pipeline(tmp_path, monkeypatch):
    (tmp_path / "returns_a_dict.py").write_text("def get_pipeline(region):\n    return {}\n")
    (tmp_path / "returns_none.py").write_text("def get_pipeline(region):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UsageError, match=r"returns_a_dict.get_pipeline\(\) returned dict, not"):
        get_pipeline_driver("returns_a_dict", {"region": "us-east-1"})
    with pytest.raises(UsageError, match=r"returns_none.get_pipeline\(\) returned NoneType"):
        get_pipeline_driver("returns_none", {"region": "us-east-1"})


@pytest.mark.parametrize("region", [5, "", "us east 1", ["us-east-1"]])
def test_a_region_that_is_not_a_region_name_is_a_usage_error(region):
    from pipelines._utils import with_region

    with pytest.raises(UsageError, match="--kwargs: region must be an AWS region name"):
        with_region("pipelines.abalone.pipeline", {"region": region})
