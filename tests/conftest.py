"""Test environment: nothing leaves 127.0.0.1, no real AWS identity, state in temp folders."""

import os
from importlib.metadata import version
from pathlib import Path

import pytest

import smlocal

_OFFLINE_ENV = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
_DROPPED = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SAGEMAKER",
    "AWS_ENDPOINT_URL_S3",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "PIPELINES_TARGET",
    "PIPELINES_LOCAL_HOME",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "SAGEMAKER_ADMIN_CONFIG_OVERRIDE",
)

# tests/sdk3 is written for SDK 3.x (tox -e sdk3); the template and its tests are on 2.x
collect_ignore = [] if int(version("sagemaker").split(".")[0]) >= 3 else ["sdk3"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "heavy: a module of whole-pipeline runs (25 s or more), scheduled first"
    )


def pytest_collection_modifyitems(items):
    """Heavy modules first, in collection order otherwise.

    With a module to a worker (``--dist loadscope --no-loadscope-reorder``, in this order), the
    long modules start early and the short ones fill in behind them: the workers end together,
    not one of them running a long module alone at the end.
    """
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


def pytest_sessionstart(session):
    """No data set, no tests: say where to get it rather than fail test by test."""
    from tests.helpers import ABALONE_CSV, missing_data_message

    if not ABALONE_CSV.is_file():
        pytest.exit(missing_data_message(), returncode=4)


def _telemetry_opt_out_config(folder: Path) -> Path:
    path = folder / "sagemaker-config.yaml"
    path.write_text(
        "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n"
    )
    return path


@pytest.fixture(autouse=True)
def offline_environment(monkeypatch, tmp_path_factory):
    """Every test: no credentials, no metadata service, telemetry off, a fresh state folder."""
    for name in _DROPPED:
        monkeypatch.delenv(name, raising=False)
    for name, value in _OFFLINE_ENV.items():
        monkeypatch.setenv(name, value)
    config_dir = tmp_path_factory.mktemp("sdk-config")
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(_telemetry_opt_out_config(config_dir)))
    home = tmp_path_factory.mktemp("pipelines-local-home")
    monkeypatch.setenv("PIPELINES_LOCAL_HOME", str(home))
    yield home
    smlocal.disable()  # a CLI run in this process turns it on for good


@pytest.fixture
def on_local_target(local_home):
    """The local target on for one test (``smlocal.local_target``), state in ``local_home``."""
    with smlocal.local_target(home=local_home):
        yield local_home


@pytest.fixture
def local_home(offline_environment):
    return offline_environment


@pytest.fixture
def moto_server(monkeypatch):
    """moto on 127.0.0.1, extended with ListPipelineExecutionSteps; env set for boto3 to use it."""
    from tests.helpers import free_port
    from tests.moto_server import MotoServer

    with MotoServer(free_port()) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        yield server


@pytest.fixture(scope="session")
def abalone_definition(tmp_path_factory):
    """The abalone pipeline's definition, as get-pipeline-definition --local prints it."""
    import json

    from tests.helpers import run_cli

    home = tmp_path_factory.mktemp("definition-home")
    result = run_cli(
        ["pipelines.get_pipeline_definition", "-n", "pipelines.abalone.pipeline", "--local"],
        env={"PIPELINES_LOCAL_HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true"},
        no_network=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
