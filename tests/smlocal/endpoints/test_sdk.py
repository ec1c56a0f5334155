"""The SageMaker SDK 2.x, unchanged: ``model.deploy()``, ``ModelPackage.deploy()``, ``Predictor``."""

import pytest
import sagemaker
import xgboost
from sagemaker.deserializers import CSVDeserializer
from sagemaker.model import Model, ModelPackage
from sagemaker.predictor import Predictor
from sagemaker.serializers import CSVSerializer

from tests.smlocal.endpoints.conftest import FEATURES
from tests.smlocal.endpoints.helpers import BUCKET, IMAGE


def test_model_deploy_and_predict(aws, xgboost_model):
    booster = xgboost_model("trained")  # also uploads its model.tar.gz
    session = sagemaker.Session()
    model = Model(
        image_uri=IMAGE,
        model_data=f"s3://{BUCKET}/models/trained/model.tar.gz",
        role=sagemaker.get_execution_role(),
        sagemaker_session=session,
        predictor_cls=Predictor,
    )
    predictor = model.deploy(
        initial_instance_count=1,
        instance_type="ml.m5.large",
        endpoint_name="sdk-model",
        serializer=CSVSerializer(),
        deserializer=CSVDeserializer(),
    )
    rows = predictor.predict(FEATURES[:3])
    expected = booster.predict(xgboost.DMatrix(FEATURES[:3]))
    assert [float(r[0]) for r in rows] == pytest.approx([float(p) for p in expected])

    predictor.delete_endpoint()  # the endpoint and its configuration
    assert aws.sm.list_endpoints()["Endpoints"] == []
    assert aws.sm.list_endpoint_configs()["EndpointConfigs"] == []


def test_model_package_deploy_and_predict(aws, xgboost_model):
    booster = xgboost_model("packaged")
    aws.sm.create_model_package_group(ModelPackageGroupName="Packaged")
    arn = aws.sm.create_model_package(
        ModelPackageGroupName="Packaged",
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [
                {"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/models/packaged/model.tar.gz"}
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    session = sagemaker.Session()
    package = ModelPackage(
        role=sagemaker.get_execution_role(), model_package_arn=arn, sagemaker_session=session
    )
    package.deploy(1, "ml.m5.large", endpoint_name="sdk-package")
    predictor = Predictor(
        "sdk-package", session, serializer=CSVSerializer(), deserializer=CSVDeserializer()
    )
    (row,) = predictor.predict(FEATURES[:1])
    assert float(row[0]) == pytest.approx(float(booster.predict(xgboost.DMatrix(FEATURES[:1]))[0]))
    config = aws.sm.describe_endpoint_config(
        EndpointConfigName=aws.sm.describe_endpoint(EndpointName="sdk-package")[
            "EndpointConfigName"
        ]
    )
    model = aws.sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    (container,) = model.get("Containers") or [model["PrimaryContainer"]]
    assert container["ModelPackageName"] == arn
