"""Fixtures of the config tests that change the shared cluster, and put it back."""

import pytest

from tests.cluster import deploy


@pytest.fixture
def delayed_replica():
    """The replica applies each commit 2 s late (``recovery_min_apply_delay``)."""
    deploy("replica-delay", "2")
    yield
    deploy("replica-delay", "0")
