"""Abalone with scikit-learn in script mode, model creation and batch transform.

    Process -> Train (script mode) -> Evaluate -> Condition . -> Register
                                                           .  -> CreateModel -> Transform (test) -> Score
                                                            . -> Fail (MSE above threshold)

Implements the template's get_pipeline(**kwargs); runs on SageMaker and on the local target.
"""

import os

import sagemaker.image_uris
from sagemaker.inputs import TrainingInput
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagemaker.sklearn.estimator import SKLearn
from sagemaker.sklearn.model import SKLearnModel
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.transformer import Transformer
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.retry import SageMakerJobExceptionTypeEnum, SageMakerJobStepRetryPolicy
from sagemaker.workflow.steps import ProcessingStep, TrainingStep, TransformStep

from pipelines import target

BASE_DIR = os.path.dirname(os.path.realpath(__file__))
PREPROCESS = os.path.join(BASE_DIR, "..", "abalone", "preprocess.py")
SKLEARN_FRAMEWORK_VERSION = "1.2-1"
MSE_THRESHOLD = 6.0


def get_pipeline(
    region,
    sagemaker_project_name=None,
    role=None,
    default_bucket=None,
    model_package_group_name="AbaloneSklearnPackageGroup",
    pipeline_name="AbaloneSklearnPipeline",
    base_job_prefix="AbaloneSklearn",
    processing_instance_type="ml.m5.xlarge",
    training_instance_type="ml.m5.xlarge",
):
    """Gets the scikit-learn abalone pipeline (same interface as the template's)."""
    session = target.get_pipeline_session(region, default_bucket)
    role = target.resolve_role(role, session)
    bucket = session.default_bucket()

    processing_instance_count = ParameterInteger(name="ProcessingInstanceCount", default_value=1)
    processing_instance_type = ParameterString(
        name="ProcessingInstanceType", default_value=processing_instance_type
    )
    training_instance_type = ParameterString(
        name="TrainingInstanceType", default_value=training_instance_type
    )
    model_approval_status = ParameterString(
        name="ModelApprovalStatus", default_value="PendingManualApproval"
    )
    input_data = ParameterString(
        name="InputDataUrl",
        default_value=f"s3://sagemaker-servicecatalog-seedcode-{region}/dataset/abalone-dataset.csv",
    )
    mse_threshold = ParameterFloat(name="MseThreshold", default_value=MSE_THRESHOLD)
    n_estimators = ParameterInteger(name="NEstimators", default_value=150)

    sklearn_image = sagemaker.image_uris.retrieve(
        "sklearn", region, version=SKLEARN_FRAMEWORK_VERSION, instance_type="ml.m5.xlarge"
    )
    source_dir = target.upload_source_dir(session, os.path.join(BASE_DIR, "code"), pipeline_name)

    def processor(name, count=1):
        return ScriptProcessor(
            image_uri=sklearn_image,
            command=["python3"],
            instance_type=processing_instance_type,
            instance_count=count,
            base_job_name=f"{base_job_prefix}/{name}",
            sagemaker_session=session,
            role=role,
        )

    # preprocess: the template's script
    step_process = ProcessingStep(
        name="PreprocessAbaloneData",
        step_args=SKLearnProcessor(
            framework_version=SKLEARN_FRAMEWORK_VERSION,
            instance_type=processing_instance_type,
            instance_count=processing_instance_count,
            base_job_name=f"{base_job_prefix}/preprocess",
            sagemaker_session=session,
            role=role,
        ).run(
            inputs=[ProcessingInput(source=input_data, destination="/opt/ml/processing/input")],
            outputs=[
                ProcessingOutput(output_name=n, source=f"/opt/ml/processing/{n}")
                for n in ("train", "validation", "test")
            ],
            code=target.upload_code(session, PREPROCESS, pipeline_name),
            arguments=["--input-data", input_data],
        ),
    )

    def split(name):
        return step_process.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    # script-mode training
    estimator = SKLearn(
        entry_point="train.py",
        source_dir=source_dir,
        framework_version=SKLEARN_FRAMEWORK_VERSION,
        instance_type=training_instance_type,
        instance_count=1,
        output_path=f"s3://{bucket}/{base_job_prefix}/train",
        base_job_name=f"{base_job_prefix}/train",
        hyperparameters={"n_estimators": n_estimators, "max_depth": 3, "learning_rate": 0.05},
        metric_definitions=[
            {"Name": "train:mse", "Regex": r"train:mse=([0-9.]+);"},
            {"Name": "validation:mse", "Regex": r"validation:mse=([0-9.]+);"},
        ],
        sagemaker_session=session,
        role=role,
    )
    step_train = TrainingStep(
        name="TrainAbaloneSklearnModel",
        step_args=estimator.fit(
            {
                "train": TrainingInput(s3_data=split("train"), content_type="text/csv"),
                "validation": TrainingInput(s3_data=split("validation"), content_type="text/csv"),
            }
        ),
        retry_policies=[
            SageMakerJobStepRetryPolicy(
                exception_types=[SageMakerJobExceptionTypeEnum.INTERNAL_ERROR],
                max_attempts=2,
                interval_seconds=1,
            )
        ],
    )
    model_data = step_train.properties.ModelArtifacts.S3ModelArtifacts

    # evaluation
    evaluation_report = PropertyFile(
        name="EvaluationReport", output_name="evaluation", path="evaluation.json"
    )
    step_eval = ProcessingStep(
        name="EvaluateAbaloneSklearnModel",
        step_args=processor("evaluate").run(
            inputs=[
                ProcessingInput(source=model_data, destination="/opt/ml/processing/model"),
                ProcessingInput(source=split("test"), destination="/opt/ml/processing/test"),
            ],
            outputs=[
                ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation")
            ],
            code=target.upload_code(session, os.path.join(BASE_DIR, "evaluate.py"), pipeline_name),
        ),
        property_files=[evaluation_report],
    )
    mse = JsonGet(
        step_name=step_eval.name,
        property_file=evaluation_report,
        json_path="regression_metrics.mse.value",
    )

    # if good: register, create the model, batch-transform the test split, score it
    model = SKLearnModel(
        model_data=model_data,
        entry_point="inference.py",
        source_dir=source_dir,
        framework_version=SKLEARN_FRAMEWORK_VERSION,
        sagemaker_session=session,
        role=role,
    )
    step_register = ModelStep(
        name="RegisterAbaloneSklearnModel",
        step_args=model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            model_package_group_name=model_package_group_name,
            approval_status=model_approval_status,
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(
                    s3_uri=Join(
                        on="/",
                        values=[
                            step_eval.properties.ProcessingOutputConfig.Outputs[
                                "evaluation"
                            ].S3Output.S3Uri,
                            "evaluation.json",
                        ],
                    ),
                    content_type="application/json",
                )
            ),
        ),
    )
    step_create = ModelStep(
        name="CreateAbaloneSklearnModel", step_args=model.create(instance_type="ml.m5.large")
    )
    transformer = Transformer(
        model_name=step_create.properties.ModelName,
        instance_type="ml.m5.large",
        instance_count=1,
        output_path=Join(
            on="/",
            values=[
                f"s3://{bucket}",
                base_job_prefix,
                "transform",
                step_train.properties.TrainingJobName,
            ],
        ),
        accept="text/csv",
        assemble_with="Line",
        sagemaker_session=session,
    )
    step_transform = TransformStep(
        name="TransformAbaloneTestSplit",
        step_args=transformer.transform(
            data=split("test"),
            content_type="text/csv",
            split_type="Line",
            input_filter="$[1:]",
            join_source="Input",
            output_filter="$[0,-1]",
        ),
    )
    step_score = ProcessingStep(
        name="ScoreAbaloneTransform",
        step_args=processor("score").run(
            inputs=[
                ProcessingInput(
                    source=step_transform.properties.TransformOutput.S3OutputPath,
                    destination="/opt/ml/processing/transform",
                )
            ],
            outputs=[ProcessingOutput(output_name="score", source="/opt/ml/processing/score")],
            code=target.upload_code(session, os.path.join(BASE_DIR, "score.py"), pipeline_name),
        ),
    )
    step_fail = FailStep(
        name="AbaloneSklearnMSEAboveThreshold",
        error_message=Join(
            on=" ",
            values=[
                "Execution failed: the model's MSE",
                mse,
                "is above the threshold",
                mse_threshold,
            ],
        ),
    )
    step_cond = ConditionStep(
        name="CheckMSEAbaloneSklearnEvaluation",
        conditions=[ConditionLessThanOrEqualTo(left=mse, right=mse_threshold)],
        if_steps=[step_register, step_create, step_transform, step_score],
        else_steps=[step_fail],
    )
    return Pipeline(
        name=pipeline_name,
        parameters=[
            processing_instance_type,
            processing_instance_count,
            training_instance_type,
            model_approval_status,
            input_data,
            mse_threshold,
            n_estimators,
        ],
        steps=[step_process, step_train, step_eval, step_cond],
        sagemaker_session=session,
    )
