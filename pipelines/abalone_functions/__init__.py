"""The abalone pipeline written as ``@step`` functions (the SageMaker SDK's function steps)."""
