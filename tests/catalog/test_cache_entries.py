"""The listings' cache entries during a rolling deploy: kept apart per schema version, and
an entry that cannot be loaded is a miss (rebuilt and overwritten), never a failed request."""

import logging

import pytest

from caching import entries
from catalog.selectors import CategoryPage, CategorySummary
from tests.caching.helpers import UNREADABLE, cache_stat, entries_spoil, unreadable_warnings
from tests.catalog.pages import listed_price, page

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("cache_server"),
]


@pytest.fixture(autouse=True)
def _nothing_reported_yet(monkeypatch):
    monkeypatch.setattr(entries, "_reported", set())


@pytest.mark.parametrize("payload", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_unreadable_listings_are_rebuilt_and_logged_once(client, product, caplog, payload):
    assert listed_price(client, product) == "12.50 EUR"
    page(client, "/")
    with caplog.at_level(logging.WARNING, logger="caching.entries"):
        for _ in range(2):
            assert entries_spoil("query:*", payload) == 2
            assert listed_price(client, product) == "12.50 EUR"
            assert product.category.name in page(client, "/")
    assert unreadable_warnings(caplog) == 2  # one per kind of entry
    assert cache_stat("category_page.unreadable") >= 2
    assert cache_stat("categories.unreadable") >= 2


@pytest.mark.parametrize("listing", [CategoryPage, CategorySummary])
def test_listing_entries_are_kept_per_schema_version(client, product, monkeypatch, listing):
    stat = "category_page.rebuild" if listing is CategoryPage else "categories.rebuild"
    paths = [f"/categories/{product.category.slug}/", "/"]
    for path in paths:
        page(client, path)
    rebuilds = cache_stat(stat)
    monkeypatch.setattr(listing, "CACHE_VERSION", listing.CACHE_VERSION + 1)
    for path in paths:  # a clone of the next release does not read the old shape
        page(client, path)
    assert cache_stat(stat) == rebuilds + 1
    monkeypatch.undo()
    for path in paths:  # and the old release still has its own entry
        page(client, path)
    assert cache_stat(stat) == rebuilds + 1
