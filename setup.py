"""Packaging for the pipelines project."""

import os
from pathlib import Path

import setuptools

about = {}
here = os.path.abspath(os.path.dirname(__file__))
with open(os.path.join(here, "pipelines", "__version__.py")) as f:
    exec(f.read(), about)

with open(os.path.join(here, "README.md"), encoding="utf-8") as f:
    readme = f.read()


# XGBoost's CPU build (PyPI ``xgboost-cpu``: same ``xgboost`` module, no CUDA libraries, about
# 1/20 of the size) where one is published; the regular package elsewhere. To keep a GPU build
# you already have (or to get one): ``PIPELINES_XGBOOST=xgboost pip install ...``.
CPU_BUILD = (
    '(platform_system == "Linux" and (platform_machine == "x86_64" or platform_machine == "aarch64"))'
    ' or (platform_system == "Windows" and platform_machine == "AMD64")'
)
NO_CPU_BUILD = (
    '(platform_system != "Linux" and platform_system != "Windows")'
    ' or (platform_system == "Linux" and platform_machine != "x86_64" and platform_machine != "aarch64")'
    ' or (platform_system == "Windows" and platform_machine != "AMD64")'
)


def xgboost_requirements() -> list:
    """The XGBoost distribution for this platform, or the regular one when asked."""
    if os.environ.get("PIPELINES_XGBOOST", "").strip().lower() == "xgboost":
        return ["xgboost"]
    return [f"xgboost-cpu; {CPU_BUILD}", f"xgboost; {NO_CPU_BUILD}"]


required_packages = [
    # 3.x removed sagemaker.workflow: the template needs the 2.x line.
    "sagemaker>=2.257,<3",
    "boto3",
    "pandas",
    "numpy",
    "scikit-learn",
    *xgboost_requirements(),
    # the local target, a distribution of its own in this checkout (installable alone)
    "smlocal @ " + Path(here, "local-target").as_uri(),
]
extras = {
    # pictures of pipelines and executions (--graph, executions/<id>/pipeline.png): ~90 MB more
    "pictures": ["matplotlib"],
    "test": [
        "black",
        "coverage>=7.10",  # measures the CLIs and step processes (patch = subprocess)
        "flake8",
        "ipykernel",
        "jsonschema",
        "matplotlib",
        "moto[server]>=5.1,<6",
        "nbclient",
        "nbformat",
        "pydocstyle",
        "pytest",
        "pytest-cov",
        "pytest-xdist",
        "tox",
        "wheel",  # test_packaging builds the wheel offline (--no-build-isolation)
    ],
}
setuptools.setup(
    name=about["__title__"],
    description=about["__description__"],
    version=about["__version__"],
    author=about["__author__"],
    author_email=about["__author_email__"],
    long_description=readme,
    long_description_content_type="text/markdown",
    url=about["__url__"],
    license=about["__license__"],
    packages=setuptools.find_packages(exclude=["tests", "tests.*", "benchmarks"]),
    include_package_data=True,
    python_requires=">=3.9",
    install_requires=required_packages,
    extras_require=extras,
    entry_points={
        "console_scripts": [
            "get-pipeline-definition=pipelines.get_pipeline_definition:main",
            "run-pipeline=pipelines.run_pipeline:main",
            "model-registry=pipelines.model_registry:main",
            # complete a pipeline's Callback step by hand (SageMaker, or --local)
            "pipeline-callback=pipelines.callback:main",
            "endpoints=pipelines.endpoints:main",
            # the local target's state folder: list, clean (the module ships with smlocal)
            "pipelines-local=smlocal.cli_state:main",
        ]
    },
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Intended Audience :: Developers",
        "Natural Language :: English",
        "Programming Language :: Python",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.11",
    ],
)
