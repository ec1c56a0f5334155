"""The local target: runs pipeline definitions on this machine, with no AWS and no Docker.

Layout, in the order data flows: ``definition`` (JSON -> plan), ``expressions`` (values),
``engine`` (runs a plan), ``steps`` (one executor per step type), ``containers`` (what runs
inside a step's process), ``store`` (S3 as folders), ``registry`` and ``executions`` (SQLite
state), ``client`` (the SageMaker API over them) and ``session`` (the SDK's entry point).
"""

from pipelines.local.config import enable, enabled

__all__ = ["enable", "enabled"]
