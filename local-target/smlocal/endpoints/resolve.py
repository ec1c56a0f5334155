"""What a production variant serves: its model's container, through a model package if it names one.

Checked when the endpoint configuration is made and again when the endpoint is (the model may
have been deleted in between), so an endpoint the local target cannot serve is refused by name
before any process starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from smlocal.endpoints.errors import EndpointError
from smlocal.jobs.transform import XGBOOST_IMAGE
from smlocal.models import ModelNotFound, ModelStore
from smlocal.registry import ModelRegistry, RegistryError

SERVABLE = "the built-in XGBoost algorithm, or a framework model with an inference script"


@dataclass
class ServedModel:
    """The container one variant runs: image, model data, environment."""

    model_name: str
    model_arn: str
    variant: str
    image: str
    model_data: Optional[str]
    environment: dict = field(default_factory=dict)
    package_arn: Optional[str] = None  # when the model was made from a model package

    @property
    def program(self) -> Optional[str]:
        return self.environment.get("SAGEMAKER_PROGRAM") or None


def check_variants(config_name: str, request: dict) -> list[dict]:
    """The configuration's one production variant; what cannot run locally is refused by name."""
    for key in ("AsyncInferenceConfig", "ExplainerConfig", "ShadowProductionVariants"):
        if request.get(key):
            raise EndpointError(f"{key} is not supported locally (real-time endpoints only)")
    capture = request.get("DataCaptureConfig") or {}
    if capture.get("EnableCapture", bool(capture)):
        raise EndpointError("DataCaptureConfig is not supported locally (no data capture)")
    variants = request.get("ProductionVariants") or []
    if len(variants) != 1:
        raise EndpointError(
            f"endpoint configuration {config_name}: {len(variants)} production variants; the local "
            "target serves exactly one (no traffic splitting)"
        )
    if not variants[0].get("ModelName"):
        raise EndpointError(
            "a production variant without ModelName (inference components) is not supported locally"
        )
    return variants


def served_model(variant: dict, models: ModelStore, registry: ModelRegistry) -> ServedModel:
    """Resolve a variant's model to the container to serve, or refuse it by name."""
    try:
        model = models.describe(variant["ModelName"])
    except ModelNotFound as err:
        raise EndpointError(str(err)) from None
    containers = model.get("Containers") or []
    if len(containers) > 1:
        raise EndpointError(
            f"model {model['ModelName']}: multi-container models are not supported locally"
        )
    container = model.get("PrimaryContainer") or (containers[0] if containers else {})
    environment = {str(k): str(v) for k, v in (container.get("Environment") or {}).items()}
    package_arn = None
    if container.get("ModelPackageName"):
        try:
            package = registry.describe_model_package(container["ModelPackageName"])
        except RegistryError as err:
            raise EndpointError(f"model {model['ModelName']}: {err}") from None
        package_arn = package["ModelPackageArn"]
        spec = ((package.get("InferenceSpecification") or {}).get("Containers") or [{}])[0]
        environment = {**(spec.get("Environment") or {}), **environment}
        container = {**spec, **{k: v for k, v in container.items() if k != "ModelPackageName"}}
    served = ServedModel(
        model_name=model["ModelName"],
        model_arn=model["ModelArn"],
        variant=variant.get("VariantName") or "AllTraffic",
        image=container.get("Image") or "",
        model_data=container.get("ModelDataUrl")
        or ((container.get("ModelDataSource") or {}).get("S3DataSource") or {}).get("S3Uri"),
        environment={str(k): str(v) for k, v in environment.items()},
        package_arn=package_arn,
    )
    if not served.program and not XGBOOST_IMAGE.search(served.image):
        raise EndpointError(
            f"model {served.model_name}: image {served.image!r} is not supported locally ({SERVABLE})"
        )
    return served
