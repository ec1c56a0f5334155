"""``@step`` functions (and ``@remote``): the SDK's remote-function training jobs.

The SDK uploads the pickled function and arguments, and a bootstrap (``job_driver.sh``,
``bootstrap_runtime_environment.py``, ...) as the ``sagemaker_remote_function_bootstrap``
channel, and makes a training job whose ``ContainerEntrypoint`` runs that driver in a
Python-capable image. Locally the driver runs as it is, in the job's container (Linux
namespaces: ``bash`` and every program see ``/opt/ml``), with the image's Python environment:
what the bootstrap's ``pip install`` adds lands there, never in the user's environment.

What this module decides: whether a request is such a job, and what cannot run, by name.
"""

from __future__ import annotations

import re
from typing import Optional

DRIVER_CHANNEL = "sagemaker_remote_function_bootstrap"
DRIVER = f"/opt/ml/input/data/{DRIVER_CHANNEL}/job_driver.sh"
FEATURE = "@step function (remote function) job"
# Amazon's images whose container runs a fixed program, not a general Python with pip: the
# built-in algorithms, the Spark, monitoring, Clarify and serving-only images.
NOT_PYTHON = re.compile(
    r"^(blazingtext|factorization-machines|forecasting-deepar|image-classification(-neo)?|"
    r"ipinsights|kmeans|knn|lda|linear-learner|ntm|object-detection|object2vec|pca|"
    r"randomcutforest|semantic-segmentation|seq2seq|xgboost|xgboost-neo|"
    r"sagemaker-spark-processing|sagemaker-debugger-rules|sagemaker-model-monitor-analyzer|"
    r"sagemaker-clarify-processing|sagemaker-data-wrangler-container|sagemaker-sparkml-serving|"
    r"sagemaker-tritonserver|sagemaker-geospatial-v1-0|tei|tei-cpu)$"
)
BASE_PYTHON = re.compile(r"^sagemaker-base-python-(\d)(\d+)$")


def repository(image: str) -> str:
    """An image URI's repository name: ``.../sagemaker-base-python-310:1.0`` -> its last part."""
    name = image.rsplit("/", 1)[-1]
    return re.split(r"[:@]", name, maxsplit=1)[0]


def is_remote_function(spec: dict) -> bool:
    """Whether an AlgorithmSpecification is the SDK's remote-function job (its driver script)."""
    entry = spec.get("ContainerEntrypoint") or []
    return any(isinstance(part, str) and part == DRIVER for part in entry)


def unsupported_image(image: object) -> Optional[str]:
    """Why the image cannot run a remote function here (None when it can)."""
    if not isinstance(image, str) or not image:
        return f"{FEATURE}: TrainingImage {image!r} is not an image URI"
    name = repository(image)
    if NOT_PYTHON.match(name):
        return (
            f"{FEATURE}: image {image!r} is not a Python image ({name!r} runs its own program); "
            "@step functions need an image with Python and the SageMaker SDK, e.g. the default "
            "sagemaker-base-python image or your own (image_uri=...)"
        )
    return None


def image_python(image: str) -> Optional[str]:
    """The Python version an image is known to have (``sagemaker-base-python-310`` -> 3.10)."""
    found = BASE_PYTHON.match(repository(image))
    return f"{found.group(1)}.{found.group(2)}" if found else None


def argument(arguments: list, name: str) -> Optional[str]:
    """The value after ``--name`` in the job's ContainerArguments, if any."""
    for here, value in zip(arguments, arguments[1:]):
        if here == f"--{name}" and isinstance(value, str):
            return value
    return None


def python_mismatch(image: str, arguments: list) -> Optional[str]:
    """The SDK's own bootstrap failure where the image's Python is not the client's.

    Locally the job runs with this machine's Python, so the bootstrap's check would pass where
    the image's Python (known from its name) would fail it on SageMaker: say so as it would.
    """
    known, client = image_python(image), argument(arguments, "client_python_version")
    if known is None or client is None or known == client.strip():
        return None
    return (
        f"RuntimeEnvironmentError: Python version found in the container is '{known}' which "
        f"does not match python version '{client.strip()}' on the local client. Please make "
        "sure that the python version used in the training container is same as the local "
        f"python version. (image {image})"
    )
