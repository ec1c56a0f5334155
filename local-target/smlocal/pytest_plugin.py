"""The ``local_target`` fixture, for users' tests: their pipeline and jobs run locally.

Registered with pytest by the package's entry point, so installing the local target is
enough: ``def test_pipeline(local_target): ...`` runs the test with every AWS call answered
locally and the state (object store, records) in a fresh temporary folder; endpoints the test
deployed are stopped when it ends.
"""

from __future__ import annotations

import pytest

from smlocal.activation import local_target as _local_target


@pytest.fixture
def local_target(tmp_path_factory):
    """The local target on for one test; yields its state folder."""
    home = tmp_path_factory.mktemp("smlocal-home")
    with _local_target(home=home):
        try:
            yield home
        finally:
            from smlocal.endpoints import stop_all

            stop_all(home)  # endpoints the test deployed end with it
