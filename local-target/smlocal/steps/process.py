"""Where step processes used to be started; they are jobs' processes now (``jobs.process``)."""

from smlocal.jobs.process import (  # noqa: F401 - this module's public names, kept
    FORKSERVER_ENV,
    ForkServer,
    child_environment,
    failure,
    fork_server,
    fork_server_enabled,
    prestart,
    run_container,
    run_python,
    spec_for,
    tail,
)
