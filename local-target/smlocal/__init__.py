"""The local target: SageMaker's API, served on this machine -- no AWS account, no Docker.

Layout, in the order data flows: ``boundary`` (botocore's event hooks: every AWS call, in
every process, answered here while on), ``services`` (one per AWS service: state and rules),
``definition``/``expressions``/``engine`` (a pipeline definition run as a plan), ``steps``
(one executor per step type), ``containers`` (what runs inside a step's process), ``store``
(S3 as folders), ``registry``/``executions``/``models`` (SQLite state).

On: ``PIPELINES_TARGET=local`` in the environment (any Python process), ``smlocal.enable()``,
``with smlocal.local_target(): ...`` (also a decorator), or the ``local_target`` pytest
fixture.
"""

from smlocal import boundary as _boundary
from smlocal.activation import disable, enable, enabled, local_target

# Hooks go in at import, inert until turned on, so clients made from here on are covered.
_boundary.install()

__all__ = ["disable", "enable", "enabled", "local_target"]
