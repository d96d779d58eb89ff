"""One rebuild per missing entry, for product pages and listings alike (the stampede guard).

These tests commit (``transaction=True``): writes invalidate after commit, and the
replica only ever sees committed rows. The "fifty at once" tests let waiters wait 30 s,
far more than a rebuild takes even on a busy 2-core machine, so that none gives up.
"""

from decimal import Decimal

import pytest
from django.http import Http404

from catalog import services
from catalog.cache import reads
from catalog.cache.pages import PRODUCT_PAGES, product_page_cached
from core.redis_guard import cache_key, redis_client
from tests.caching.helpers import at_once, cache_stat
from tests.catalog.pages import current_price, listed_price, warm

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("cache_server"),
]


def test_fifty_concurrent_misses_of_a_listing_after_a_price_write_rebuild_it_once(
    client, product, settings
):
    """Every price write moves the price table's generation: each category listing is
    then missed by every clone at once."""
    settings.CACHE_REBUILD_WAIT_SECONDS = 30
    assert listed_price(client, product) == "12.50 EUR"  # cached
    services.price_add(product=product, amount=Decimal("13.50"))
    before, timeouts = cache_stat("category_page.rebuild"), cache_stat("category_page.wait_timeout")
    listings, errors = [], []

    def visit():
        try:
            listings.append(reads.category_page(slug=product.category.slug))
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    at_once(50, visit)

    assert errors == []
    assert [row.price_amount for page in listings for row in page.products] == [
        Decimal("13.50")
    ] * 50
    assert cache_stat("category_page.rebuild") - before == 1
    assert cache_stat("category_page.wait_timeout") == timeouts  # no waiter built on its own


def test_a_product_published_after_a_404_is_served_to_every_concurrent_reader(product):
    services.products_publish_set(product_ids=[product.pk], published=False)
    with pytest.raises(Http404):  # the rebuild tells its waiters "no such page"...
        product_page_cached(slug=product.slug)
    services.products_publish_set(product_ids=[product.pk], published=True)
    outcomes = []

    def visit():
        try:
            outcomes.append(product_page_cached(slug=product.slug).name)
        except Http404:
            outcomes.append(404)

    at_once(20, visit)  # ...which must not reach the waiters of the next rebuild

    assert outcomes == [product.name] * 20


def test_a_404_is_only_told_to_the_readers_waiting_for_that_rebuild(product, settings):
    settings.CACHE_REBUILD_WAIT_SECONDS = 0.3
    services.products_publish_set(product_ids=[product.pk], published=False)
    with pytest.raises(Http404):
        product_page_cached(slug=product.slug)
    services.products_publish_set(product_ids=[product.pk], published=True)
    client = redis_client("default")
    client.set(_rebuild_lock(product), "a later rebuild, still running", ex=10)
    try:
        # Waits for that rebuild, not for the one that found nothing, then builds itself.
        assert product_page_cached(slug=product.slug).name == product.name
    finally:
        client.delete(_rebuild_lock(product))


def _rebuild_lock(product) -> str:
    return cache_key(f"rebuild-lock:{PRODUCT_PAGES.rebuild_key(product.slug)}")


def test_a_waiter_that_gives_up_reads_no_older_than_the_last_write(
    client, product, settings, delayed_replica
):
    """A waiter whose rebuilder is stuck assembles the page itself, and must not read a
    replica that has not replayed the product's last write (here it lags 3 s)."""
    settings.CACHE_REBUILD_WAIT_SECONDS = 0.1
    warm(client, product)
    lock = _rebuild_lock(product)
    timeouts = cache_stat("product_page.wait_timeout")
    services.price_add(product=product, amount=Decimal("19.00"))
    cache = redis_client("default")
    cache.set(lock, "a stuck rebuilder", ex=10)
    try:
        price = current_price(client, product)
    finally:
        cache.delete(lock)
    assert price == "19.00 EUR"
    assert cache_stat("product_page.wait_timeout") == timeouts + 1
