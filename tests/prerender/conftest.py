"""Fixtures of the prerender tests: a small published catalog in the test's own directory."""

from __future__ import annotations

import pytest

import jobs.outbox
from jobs.models import OutboxMessage
from prerender import store
from prerender.build import site_build
from tests.factories import PriceFactory, ProductFactory, ProductTextFactory
from tests.shop_fixtures import *  # noqa: F403  (the shop's fixtures)


@pytest.fixture(autouse=True)
def _jobs_stay_in_the_outbox(monkeypatch):
    """No send after commit: the tests run the jobs themselves, from the outbox rows."""
    monkeypatch.setattr(jobs.outbox, "outbox_send_now", lambda *, row_id: False)


def make_product(**kwargs):
    product = ProductFactory(**kwargs)
    PriceFactory(product=product)
    ProductTextFactory(product=product)
    return product


def queued(actor_name: str) -> list[list]:
    return [row.args for row in OutboxMessage.objects.filter(actor_name=actor_name)]


def published(path: str) -> str | None:
    """The published page at ``path``, or None when it is out of service."""
    base = store.current_build()
    file = store.page_file(base, path) if base else None
    return file.read_text() if file and file.exists() else None


@pytest.fixture
def built(product):
    """The ``product`` fixture's catalog, built and published (one process)."""
    figures = site_build(processes=1)
    assert figures is not None
    return figures
