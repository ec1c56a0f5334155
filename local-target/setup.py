"""The local target on its own: no ``pipelines`` package, no CLIs of the template.

Installs beside any repository (one made from the seed years ago included) and turns on
with ``PIPELINES_TARGET=local``, through ``smlocal.pth``.
"""

import os

import setuptools
from setuptools.command.build_py import build_py

HERE = os.path.abspath(os.path.dirname(__file__))
PTH = "smlocal.pth"


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


class BuildWithStartupHook(build_py):
    """Puts ``smlocal.pth`` at the top of the wheel, i.e. in site-packages once installed."""

    def run(self):
        super().run()
        self.copy_file(os.path.join(HERE, PTH), os.path.join(self.build_lib, PTH))

    def get_outputs(self, include_bytecode=True):
        return super().get_outputs(include_bytecode) + [os.path.join(self.build_lib, PTH)]


setuptools.setup(
    name="smlocal",
    version="0.2.0",
    description="SageMaker's API served on this machine: pipelines, jobs, S3 and a model "
    "registry, with no AWS account and no Docker",
    license="Apache License 2.0",
    packages=setuptools.find_packages(include=["smlocal", "smlocal.*"]),
    package_data={"smlocal.containers": ["site/*.py"], "smlocal": ["data/*"]},
    python_requires=">=3.9",
    install_requires=[
        "boto3",
        "botocore",
        # what the emulated containers run: scikit-learn and XGBoost images, batch transform
        "pandas",
        "numpy",
        "scikit-learn",
        *xgboost_requirements(),
        # real-time endpoints' model servers: the ASGI server and toolkit the SageMaker SDK's own
        # model server uses (so already installed beside it), well kept, pure-Python installs
        "uvicorn",
        "starlette",
    ],
    # pictures of pipelines and executions: optional, ~90 MB of matplotlib and its fonts
    extras_require={"pictures": ["matplotlib"]},
    entry_points={"pytest11": ["smlocal = smlocal.pytest_plugin"]},
    cmdclass={"build_py": BuildWithStartupHook},
)
