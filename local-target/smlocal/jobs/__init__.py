"""Jobs: processing, training, transform and tuning, as first-class records run by one runner.

``records`` keeps them (SQLite), ``runner`` checks, starts, stops and waits for them, one
module per kind (``processing``, ``training``, ``transform``) runs its program as the
container would (through ``process``), and ``logs`` ships their output as a log stream.
``tuning`` searches hyperparameters (``search``) with training jobs as its trials (``trials``).
The SageMaker service's Create*/Describe*/List*/Stop* and the pipeline steps all use it.
"""

from smlocal.jobs.base import JobRequestError
from smlocal.jobs.records import JobRecord
from smlocal.jobs.runner import KINDS, JobExists, JobNotFound, JobNotRunning, JobRunner

__all__ = [
    "KINDS",
    "JobExists",
    "JobNotFound",
    "JobNotRunning",
    "JobRecord",
    "JobRequestError",
    "JobRunner",
]
