"""Fixtures of the job plumbing's tests."""

import pytest

from jobs import outbox


@pytest.fixture(autouse=True)
def _fast_path_closed():
    """Each test starts with the outbox's fast path trying the broker (``jobs.breaker``)."""
    outbox.fast_path.succeeded()
    yield
    outbox.fast_path.succeeded()
