"""The abalone pipeline as ``@step`` functions (the SageMaker SDK's function steps).

    Preprocess -> Train -> Evaluate -> Condition: MSE <= threshold? -> (done) | Fail

Each step is a plain function of ``steps.py`` that SageMaker runs as a training job of a
Python image (the SDK pickles the function and its arguments to S3); what one returns is the
next one's argument, and ``evaluate()["mse"]`` is read by the condition (``Std:JsonGet``).
Same ``get_pipeline`` interface as the other examples; runs on SageMaker and, with
``--local``, on the local target. The image's Python must be the one building the pipeline
(the SDK's bootstrap checks it): pass ``function_image_uri`` (``-kwargs``) to choose it.
"""

import sys

import cloudpickle
import sagemaker.image_uris
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.function_step import step
from sagemaker.workflow.functions import Join
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline

from pipelines import target
from pipelines.abalone_functions import steps

MSE_THRESHOLD = 6.0
# The functions travel by value: the jobs need no copy of this repository.
cloudpickle.register_pickle_by_value(steps)


def default_function_image(region: str) -> str:
    """The base Python image of SageMaker for this Python where there is one, else Distribution."""
    version = f"{sys.version_info.major}{sys.version_info.minor}"
    if version in ("38", "310"):
        return sagemaker.image_uris.get_base_python_image_uri(region, py_version=version)
    return sagemaker.image_uris.retrieve(
        "sagemaker-distribution",
        region,
        version="3.2",
        instance_type="ml.m5.xlarge",
        image_scope="inference",
    )


def get_pipeline(
    region,
    sagemaker_project_name=None,
    role=None,
    default_bucket=None,
    pipeline_name="AbaloneFunctionsPipeline",
    base_job_prefix="AbaloneFunctions",
    function_instance_type="ml.m5.xlarge",
    function_image_uri=None,
):
    """Gets the abalone pipeline of @step functions.

    Args:
        region: AWS region to create and run the pipeline.
        sagemaker_project_name: the SageMaker project the pipeline belongs to, if any (unused).
        role: IAM role to create and run steps and pipeline.
        default_bucket: the bucket to use for storing the artifacts.
        pipeline_name: the pipeline's name.
        base_job_prefix: prefix of the steps' job names.
        function_instance_type: the instance type each function runs on.
        function_image_uri: the image each function runs in (default: ``default_function_image``).

    Returns:
        an instance of a pipeline
    """
    session = target.get_pipeline_session(region, default_bucket)
    role = target.resolve_role(role, session)
    input_data = ParameterString(
        name="InputDataUrl",
        default_value=f"s3://sagemaker-servicecatalog-seedcode-{region}/dataset/abalone-dataset.csv",
    )
    num_round = ParameterInteger(name="NumRound", default_value=50)
    max_depth = ParameterInteger(name="MaxDepth", default_value=5)
    mse_threshold = ParameterFloat(name="MseThreshold", default_value=MSE_THRESHOLD)

    settings = dict(
        instance_type=function_instance_type,
        image_uri=function_image_uri or default_function_image(region),
        role=role,
        job_name_prefix=base_job_prefix,
        keep_alive_period_in_seconds=0,
    )
    preprocess = step(steps.preprocess, name="PreprocessAbaloneData", **settings)
    train = step(steps.train, name="TrainAbaloneModel", **settings)
    evaluate = step(steps.evaluate, name="EvaluateAbaloneModel", **settings)

    data = preprocess(input_data)
    model = train(data["train"], data["validation"], num_round, max_depth)
    report = evaluate(model, data["test"])

    step_fail = FailStep(
        name="AbaloneMSEFail",
        error_message=Join(on=" ", values=["Execution failed due to MSE >", mse_threshold]),
    )
    step_cond = ConditionStep(
        name="CheckMSEAbaloneEvaluation",
        conditions=[ConditionLessThanOrEqualTo(left=report["mse"], right=mse_threshold)],
        if_steps=[],
        else_steps=[step_fail],
    )
    return Pipeline(
        name=pipeline_name,
        parameters=[input_data, num_round, max_depth, mse_threshold],
        steps=[step_cond],
        sagemaker_session=session,
    )
