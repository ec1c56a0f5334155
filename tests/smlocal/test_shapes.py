"""SageMaker's limits, as botocore's model of its API states them (not copies of our own)."""

import botocore.session

from smlocal.shapes import name_problem, range_problems

MODEL = botocore.session.get_session().get_service_model("sagemaker")


def literal_only(value) -> bool:
    return isinstance(value, dict) and "Get" in value


def test_names_follow_the_models_pattern_and_length():
    step_pattern = MODEL.shape_for("StepName").metadata["pattern"]
    assert name_problem("Train-Model_2", "StepName") is None
    assert name_problem("a.b", "StepName") == (
        f"'a.b' does not match SageMaker's pattern {step_pattern}"
    )
    assert name_problem("x" * 65, "StepName") == f"{'x' * 65!r} must have 1 to 64 characters"
    assert name_problem(None, "StepName") == "must be a string, got None"
    # a channel's name may hold dots by its pattern: ".." is caught where it becomes a folder
    assert name_problem("train.v2", "Channel.ChannelName") is None
    assert name_problem("a/b", "Channel.ChannelName") is not None


def test_numbers_outside_the_operations_ranges_are_named_by_their_path():
    request = {
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 0, "VolumeSizeInGB": 30}},
        "StoppingCondition": {"MaxRuntimeInSeconds": {"Get": "Parameters.Seconds"}},
    }
    assert list(range_problems(request, "CreateProcessingJob", skip=literal_only)) == [
        "ProcessingResources.ClusterConfig.InstanceCount is 0; SageMaker's minimum is 1"
    ]


def test_objects_and_lists_of_the_wrong_type_are_named():
    request = {"ProcessingInputs": {"a": 1}, "ProcessingResources": [1]}
    assert list(range_problems(request, "CreateProcessingJob", skip=literal_only)) == [
        "ProcessingInputs must be a list, got {'a': 1}",
        "ProcessingResources must be a JSON object, got [1]",
    ]
