"""Fixtures of the local target's tests."""

import pytest

from pipelines.local.client import LocalSageMakerClient


@pytest.fixture
def client(local_home):
    return LocalSageMakerClient(region="us-east-1", home=local_home)
