"""SageMaker ModelBuild pipelines: definitions, CLIs and a local target."""
