"""The SageMaker service, one part per area of the API.

The response layer over ``backend`` (as moto splits the wire from the state): operations in
boto3's names and response shapes, errors with SageMaker's codes. A new area of the API is a
new part (a mixin of ``SageMakerService``), over its own state.
"""

from __future__ import annotations

from pathlib import Path

from smlocal import config
from smlocal.backend import get_backend
from smlocal.services.base import Service
from smlocal.services.sagemaker.endpoints import EndpointsAPI
from smlocal.services.sagemaker.jobs import JobsAPI
from smlocal.services.sagemaker.lineage import LineageAPI
from smlocal.services.sagemaker.models import ModelsAPI
from smlocal.services.sagemaker.pipelines import PipelinesAPI
from smlocal.services.sagemaker.registry import RegistryAPI
from smlocal.services.sagemaker.tuning import TuningAPI


class SageMakerService(
    PipelinesAPI, JobsAPI, TuningAPI, ModelsAPI, RegistryAPI, EndpointsAPI, LineageAPI, Service
):
    """The SageMaker API subset that pipelines, jobs, the model registry, endpoints and lineage use."""

    name = "sagemaker"

    def __init__(self, home: Path, region: str = config.DEFAULT_REGION):
        self.backend = get_backend(Path(home), region)
