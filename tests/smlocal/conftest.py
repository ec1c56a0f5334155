"""Fixtures of the local target's tests."""

import pytest

import smlocal
from tests.helpers import LocalSageMaker


@pytest.fixture
def client(local_home):
    """boto3's SageMaker client, on the local target, state in this test's folder."""
    with smlocal.local_target(home=local_home):
        yield LocalSageMaker(local_home)
