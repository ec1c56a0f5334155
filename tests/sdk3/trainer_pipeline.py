"""A pipeline written with SDK 3.x's job classes, on small synthetic CSV data.

``ScriptProcessor`` splits the data, ``ModelTrainer`` fits a linear model from a source folder,
a second ``ScriptProcessor`` writes ``evaluation.json`` (a PropertyFile), a ConditionStep on its
MSE registers the model through ``ModelBuilder.register()`` or ends in a FailStep.
"""

from pathlib import Path

from sagemaker.core import image_uris
from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
from sagemaker.core.processing import ScriptProcessor
from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input
from sagemaker.core.shapes import ProcessingS3Output
from sagemaker.core.training.configs import Compute, InputData, SourceCode
from sagemaker.core.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow.condition_step import ConditionStep
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.model_step import ModelStep
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
from sagemaker.serve.model_builder import ModelBuilder
from sagemaker.train.model_trainer import ModelTrainer

NAME = "TrainerSdk3"
GROUP = "TrainerSdk3Models"
CODE = Path(__file__).parent / "trainer_code"
REGION = "us-east-1"
INSTANCE = "ml.m5.large"


def image() -> str:
    """The scikit-learn image, from the SDK's own table (no network)."""
    return image_uris.retrieve("sklearn", REGION, version="1.2-1", instance_type=INSTANCE)


def _in(source, destination: str, name: str) -> ProcessingInput:
    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(
            s3_uri=source, local_path=destination, s3_data_type="S3Prefix", s3_input_mode="File"
        ),
    )


def _out(name: str, source: str, destination) -> ProcessingOutput:
    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(
            s3_uri=destination, local_path=source, s3_upload_mode="EndOfJob"
        ),
    )


def build(role: str, prefix: str) -> Pipeline:
    """The pipeline; ``prefix`` (``s3://bucket/folder``) holds the data and every output."""
    session = PipelineSession(default_bucket=prefix.removeprefix("s3://").split("/", 1)[0])
    input_data = ParameterString(name="InputData", default_value=f"{prefix}/raw/data.csv")
    threshold = ParameterFloat(name="MseThreshold", default_value=1.0)

    def processor(job: str) -> ScriptProcessor:
        return ScriptProcessor(
            role=role,
            image_uri=image(),
            command=["python3"],
            instance_count=1,
            instance_type=INSTANCE,
            base_job_name=f"{NAME}-{job}",
            sagemaker_session=session,
        )

    preprocess = ProcessingStep(
        name="Preprocess",
        step_args=processor("preprocess").run(
            code=str(CODE / "preprocess.py"),
            inputs=[_in(input_data, "/opt/ml/processing/input", "raw")],
            outputs=[
                _out("train", "/opt/ml/processing/train", f"{prefix}/train"),
                _out("test", "/opt/ml/processing/test", f"{prefix}/test"),
            ],
            arguments=["--test-fraction", "0.25"],
        ),
    )
    outputs = preprocess.properties.ProcessingOutputConfig.Outputs

    trainer = ModelTrainer(
        training_image=image(),
        source_code=SourceCode(source_dir=str(CODE / "train"), entry_script="train.py"),
        compute=Compute(instance_type=INSTANCE, instance_count=1),
        base_job_name=f"{NAME}-train",
        role=role,
        sagemaker_session=session,
    )
    train = TrainingStep(
        name="Train",
        step_args=trainer.train(
            input_data_config=[
                InputData(channel_name="train", data_source=outputs["train"].S3Output.S3Uri)
            ],
        ),
    )
    model_uri = train.properties.ModelArtifacts.S3ModelArtifacts

    evaluation = PropertyFile(name="Evaluation", output_name="evaluation", path="evaluation.json")
    evaluate = ProcessingStep(
        name="Evaluate",
        step_args=processor("evaluate").run(
            code=str(CODE / "evaluate.py"),
            inputs=[
                _in(model_uri, "/opt/ml/processing/model", "model"),
                _in(outputs["test"].S3Output.S3Uri, "/opt/ml/processing/test", "test"),
            ],
            outputs=[_out("evaluation", "/opt/ml/processing/evaluation", f"{prefix}/evaluation")],
        ),
        property_files=[evaluation],
    )
    mse = JsonGet(
        step_name=evaluate.name, property_file=evaluation, json_path="regression_metrics.mse.value"
    )

    report_uri = Join(
        on="/",
        values=[
            evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
            "evaluation.json",
        ],
    )
    builder = ModelBuilder(
        image_uri=image(),
        s3_model_data_url=model_uri,
        role_arn=role,
        sagemaker_session=session,
    )
    register = ModelStep(
        name="Register",
        step_args=builder.register(
            model_package_group_name=GROUP,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=[INSTANCE],
            transform_instances=[INSTANCE],
            approval_status="PendingManualApproval",
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(content_type="application/json", s3_uri=report_uri)
            ),
        ),
    )
    check = ConditionStep(
        name="CheckMSE",
        conditions=[ConditionLessThanOrEqualTo(left=mse, right=threshold)],
        if_steps=[register],
        else_steps=[
            FailStep(
                name="MSETooHigh",
                error_message=Join(on=" ", values=["MSE", mse, "above", threshold]),
            )
        ],
    )
    return Pipeline(
        name=NAME,
        parameters=[input_data, threshold],
        steps=[preprocess, train, evaluate, check],
        sagemaker_session=session,
    )
