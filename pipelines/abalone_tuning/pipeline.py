"""The abalone pipeline with hyperparameter tuning, a Lambda step, a function step and an approval.

    Preprocess -> Tune (4 XGBoost trials, 2 at once) -> Summarise (Lambda) -> Report (@step)
        -> Approve (Callback) -> Condition: Approved? -> Register the best trial's model | Fail

``SummariseTuning`` is a Lambda function (``summarise.py``, created while the definition is
built, as the SDK's ``Lambda`` helper does) that checks the best trial's model artifact;
``ReportTuning`` is a ``@step`` function (``report.py``) giving the model's margin under the
threshold and a verdict; ``ApproveModel`` sends the model's RMSE and that verdict to the SQS
queue ``AbaloneApprovalQueue`` and waits
until a worker completes it: ``python -m pipelines.abalone_tuning.approve`` (an ordinary
boto3 consumer), or by hand with ``pipeline-callback``. Building the definition creates (or
updates) the Lambda function and the queue. Same ``get_pipeline`` interface as the others; runs
on SageMaker and, with ``--local``, on the local target.
"""

import os

import boto3
import cloudpickle
import sagemaker.image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.lambda_helper import Lambda
from sagemaker.model import Model
from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.tuner import ContinuousParameter, HyperparameterTuner, IntegerParameter
from sagemaker.workflow.callback_step import CallbackOutput, CallbackOutputTypeEnum, CallbackStep
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionEquals
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.function_step import step
from sagemaker.workflow.functions import Join
from sagemaker.workflow.lambda_step import LambdaOutput, LambdaOutputTypeEnum, LambdaStep
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import ProcessingStep, TuningStep

from pipelines import target
from pipelines.abalone_functions.pipeline import default_function_image
from pipelines.abalone_tuning import APPROVAL_QUEUE, report

BASE_DIR = os.path.dirname(os.path.realpath(__file__))
PREPROCESS = os.path.join(BASE_DIR, "..", "abalone", "preprocess.py")
SKLEARN_FRAMEWORK_VERSION = "1.2-1"
XGBOOST_FRAMEWORK_VERSION = "1.7-1"
SUMMARY_FUNCTION = "abalone-tuning-summary"
RMSE_THRESHOLD = 3.0
# The function travels by value: its job needs no copy of this repository.
cloudpickle.register_pickle_by_value(report)


def approval_queue_url(region: str, name: str = APPROVAL_QUEUE) -> str:
    """The callback queue's URL, made if it does not exist (CreateQueue is idempotent)."""
    return boto3.client("sqs", region_name=region).create_queue(QueueName=name)["QueueUrl"]


def get_pipeline(
    region,
    sagemaker_project_name=None,
    role=None,
    default_bucket=None,
    model_package_group_name="AbaloneTuningPackageGroup",
    pipeline_name="AbaloneTuningPipeline",
    base_job_prefix="AbaloneTuning",
    processing_instance_type="ml.m5.xlarge",
    training_instance_type="ml.m5.xlarge",
    max_tuning_jobs=4,
    max_parallel_tuning_jobs=2,
    approval_queue=APPROVAL_QUEUE,
    function_image_uri=None,
):
    """Gets the abalone tuning pipeline.

    Args:
        region: AWS region to create and run the pipeline.
        sagemaker_project_name: the SageMaker project the pipeline belongs to, if any (unused).
        role: IAM role to create and run steps and pipeline (and the Lambda function).
        default_bucket: the bucket to use for storing the artifacts.
        model_package_group_name: the model package group the approved model is registered in.
        pipeline_name: the pipeline's name.
        base_job_prefix: prefix of job names and of the tuning output path.
        processing_instance_type: the preprocessing job's instance type.
        training_instance_type: the trials' instance type.
        max_tuning_jobs: how many training jobs the tuning job runs.
        max_parallel_tuning_jobs: how many of them run at once.
        approval_queue: the SQS queue (name) the approval step sends its message to.
        function_image_uri: the image the report function runs in (default: the base Python
            image for this Python, as in ``pipelines.abalone_functions``).

    Returns:
        an instance of a pipeline
    """
    session = target.get_pipeline_session(region, default_bucket)
    role = target.resolve_role(role, session)
    bucket = session.default_bucket()
    input_data = ParameterString(
        name="InputDataUrl",
        default_value=f"s3://sagemaker-servicecatalog-seedcode-{region}/dataset/abalone-dataset.csv",
    )
    rmse_threshold = ParameterFloat(name="RmseThreshold", default_value=RMSE_THRESHOLD)

    processor = SKLearnProcessor(
        framework_version=SKLEARN_FRAMEWORK_VERSION,
        instance_type=processing_instance_type,
        instance_count=1,
        base_job_name=f"{base_job_prefix}/preprocess",
        sagemaker_session=session,
        role=role,
    )
    step_process = ProcessingStep(
        name="PreprocessAbaloneData",
        step_args=processor.run(
            inputs=[ProcessingInput(source=input_data, destination="/opt/ml/processing/input")],
            outputs=[
                ProcessingOutput(output_name="train", source="/opt/ml/processing/train"),
                ProcessingOutput(output_name="validation", source="/opt/ml/processing/validation"),
                ProcessingOutput(output_name="test", source="/opt/ml/processing/test"),
            ],
            code=target.upload_code(session, PREPROCESS, pipeline_name),
            arguments=["--input-data", input_data],
        ),
    )

    tuning_prefix = f"{base_job_prefix}/AbaloneTune"
    image_uri = sagemaker.image_uris.retrieve(
        framework="xgboost",
        region=region,
        version=XGBOOST_FRAMEWORK_VERSION,
        py_version="py3",
        instance_type="ml.m5.xlarge",
    )
    xgb = Estimator(
        image_uri=image_uri,
        instance_type=training_instance_type,
        instance_count=1,
        output_path=f"s3://{bucket}/{tuning_prefix}",
        base_job_name=f"{base_job_prefix}/abalone-tune",
        sagemaker_session=session,
        role=role,
    )
    xgb.set_hyperparameters(objective="reg:squarederror", num_round=30, subsample=0.8)
    tuner = HyperparameterTuner(
        xgb,
        objective_metric_name="validation:rmse",
        objective_type="Minimize",
        hyperparameter_ranges={
            "max_depth": IntegerParameter(2, 8),
            "eta": ContinuousParameter(0.05, 0.5, scaling_type="Logarithmic"),
            "min_child_weight": ContinuousParameter(1, 10),
        },
        strategy="Bayesian",
        random_seed=42,
        max_jobs=max_tuning_jobs,
        max_parallel_jobs=max_parallel_tuning_jobs,
    )
    outputs = step_process.properties.ProcessingOutputConfig.Outputs
    step_tune = TuningStep(
        name="TuneAbaloneModel",
        step_args=tuner.fit(
            inputs={
                channel: TrainingInput(outputs[channel].S3Output.S3Uri, content_type="text/csv")
                for channel in ("train", "validation")
            }
        ),
    )
    best_model = step_tune.get_top_model_s3_uri(top_k=0, s3_bucket=bucket, prefix=tuning_prefix)

    best = step_tune.properties.BestTrainingJob
    step_summarise = LambdaStep(
        name="SummariseTuning",
        lambda_func=Lambda(
            function_name=SUMMARY_FUNCTION,
            execution_role_arn=role,
            script=os.path.join(BASE_DIR, "summarise.py"),
            handler="summarise.lambda_handler",
            runtime="python3.12",
            timeout=60,
            session=session,
        ),
        inputs={
            "best_job": best.TrainingJobName,
            "rmse": best.FinalHyperParameterTuningJobObjectiveMetric.Value,
            "model_uri": best_model,
        },
        outputs=[
            LambdaOutput(output_name="ModelUri", output_type=LambdaOutputTypeEnum.String),
            LambdaOutput(output_name="Rmse", output_type=LambdaOutputTypeEnum.Float),
            LambdaOutput(output_name="ModelBytes", output_type=LambdaOutputTypeEnum.Integer),
        ],
    )

    reported = step(
        report.report,
        name="ReportTuning",
        instance_type=training_instance_type,
        image_uri=function_image_uri or default_function_image(region),
        role=role,
        job_name_prefix=base_job_prefix,
        keep_alive_period_in_seconds=0,
    )(step_summarise.properties.Outputs["Rmse"], rmse_threshold)

    step_approve = CallbackStep(
        name="ApproveModel",
        sqs_queue_url=approval_queue_url(region, approval_queue),
        inputs={
            "model_uri": step_summarise.properties.Outputs["ModelUri"],
            "rmse": step_summarise.properties.Outputs["Rmse"],
            "threshold": rmse_threshold,
            "verdict": reported["verdict"],
        },
        outputs=[CallbackOutput(output_name="Approval", output_type=CallbackOutputTypeEnum.String)],
    )

    model = Model(
        image_uri=image_uri,
        model_data=best_model,
        sagemaker_session=session,
        role=role,
    )
    step_register = ModelStep(
        name="RegisterBestModel",
        step_args=model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            model_package_group_name=model_package_group_name,
            approval_status="Approved",
        ),
    )
    step_rejected = FailStep(
        name="ModelNotApproved",
        error_message=Join(
            on=" ",
            values=[
                "The best model (RMSE",
                step_summarise.properties.Outputs["Rmse"],
                ") was",
                step_approve.properties.Outputs["Approval"],
            ],
        ),
    )
    step_check = ConditionStep(
        name="CheckApproval",
        conditions=[
            ConditionEquals(left=step_approve.properties.Outputs["Approval"], right="Approved")
        ],
        if_steps=[step_register],
        else_steps=[step_rejected],
    )
    return Pipeline(
        name=pipeline_name,
        parameters=[input_data, rmse_threshold],
        steps=[step_process, step_tune, step_summarise, step_approve, step_check],
        sagemaker_session=session,
    )
