"""Batch transform's CSV filters, in the JSONPath forms SageMaker documents."""

import pytest

from smlocal.containers.csv_filters import FilterError, compile_filter

RECORD = ["label", "f1", "f2", "f3"]


@pytest.mark.parametrize(
    "expression,expected",
    [
        (None, RECORD),
        ("$", RECORD),
        ("$[1:]", ["f1", "f2", "f3"]),
        ("$[0]", ["label"]),
        ("$[-1]", ["f3"]),
        ("$[0,-1]", ["label", "f3"]),
        ("$[1,3]", ["f1", "f3"]),
        ("$[:2]", ["label", "f1"]),
        ("$[0,2:]", ["label", "f2", "f3"]),
    ],
)
def test_documented_forms(expression, expected):
    assert compile_filter(expression)(RECORD) == expected


@pytest.mark.parametrize("expression", ["$.features", "$[*]", "[1:]", "$[a]", "$[1:2:3]"])
def test_other_forms_are_refused_by_name(expression):
    with pytest.raises(FilterError, match="filter"):
        compile_filter(expression)(RECORD)


def test_an_index_past_the_record_is_an_error():
    with pytest.raises(FilterError, match="record has 4 fields"):
        compile_filter("$[7]")(RECORD)
