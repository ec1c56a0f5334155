"""Metadata for the pipelines package."""

__title__ = "pipelines"
__description__ = "SageMaker ModelBuild project template, runnable on SageMaker and locally"
__version__ = "0.1.0"
__author__ = "ModelBuild template maintainers"
__author_email__ = "modelbuild-template@example.com"
__license__ = "Apache 2.0"
__url__ = "https://github.com/aws-samples/sagemaker-modelbuild-template"
