"""The nightly build: queued once per night, however many relays check."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.cache import caches

from prerender.nightly import nightly_build_if_due, nightly_due
from tests.caching.helpers import at_once
from tests.prerender.conftest import queued

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture(autouse=True)
def _no_claims_yet():
    caches["sessions"].delete_pattern("prerender:nightly:*")
    yield
    caches["sessions"].delete_pattern("prerender:nightly:*")


def test_the_build_is_due_from_its_time_for_an_hour(settings):
    settings.PRERENDER_NIGHTLY_AT = "23:30"
    assert nightly_due(datetime(2030, 5, 1, 23, 29, tzinfo=UTC)) is None
    assert nightly_due(datetime(2030, 5, 1, 23, 30, tzinfo=UTC)) == "2030-05-01"
    assert nightly_due(datetime(2030, 5, 2, 0, 20, tzinfo=UTC)) == "2030-05-01"
    assert nightly_due(datetime(2030, 5, 2, 0, 31, tzinfo=UTC)) is None


def test_checks_on_several_processes_at_once_queue_one_build(settings):
    settings.PRERENDER_NIGHTLY_AT = "03:00"
    night = datetime(2030, 5, 1, 3, 5, tzinfo=UTC)
    queued_by = []
    at_once(6, lambda: queued_by.append(nightly_build_if_due(night)))
    assert sorted(queued_by) == [0, 0, 0, 0, 0, 1]
    assert len(queued("prerender_site")) == 1
    assert nightly_build_if_due(night.replace(hour=3, minute=50)) == 0  # same night
