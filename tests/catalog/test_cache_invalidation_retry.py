"""An invalidation the cache could not take right after commit is retried, not lost.

While this clone cannot reach the cache Redis, others still may, and would go on
serving the old page: the invalidation goes into the outbox as a job, which workers
retry until the cache takes it.
"""

import re
from decimal import Decimal

import pytest

from catalog import services
from catalog.actors import CacheUnreachableError, catalog_cache_forget
from config import redis_guard
from jobs.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def _current_price(client, product) -> str:
    page = client.get(f"/products/{product.slug}/").text
    return re.search(r'<p class="price">\s*(.*?)\s*</p>', page, re.S).group(1)


def _cache_unreachable(settings) -> dict:
    reachable = settings.CACHES
    settings.CACHES = reachable | {
        "default": reachable["default"] | {"LOCATION": "redis://127.0.0.1:1/0"}
    }
    return reachable


def test_failed_invalidation_is_queued_and_the_job_finishes_it(client, product, settings):
    assert _current_price(client, product) == "12.50 EUR"  # cached now

    reachable = _cache_unreachable(settings)
    services.price_add(product=product, amount=Decimal("17.00"))
    settings.CACHES = reachable

    jobs = [job.args for job in OutboxMessage.objects.filter(actor_name="catalog_cache_forget")]
    assert sorted(ids for ids, _, _ in jobs) == [[], [product.pk]]  # pages, listings
    assert sorted(tables for _, tables, _ in jobs) == [[], ["catalog_price"]]
    # Until the jobs run, another clone (one that reaches the cache) serves the old page...
    redis_guard._down_until = 0.0  # this process now plays that clone
    assert _current_price(client, product) == "12.50 EUR"
    for product_ids, tables, lsn in jobs:
        catalog_cache_forget.fn(product_ids, tables, lsn)
    # ...and once they have, nobody does.
    assert _current_price(client, product) == "17.00 EUR"


def test_the_job_fails_for_a_retry_while_the_cache_is_unreachable(product, settings):
    _cache_unreachable(settings)
    with pytest.raises(CacheUnreachableError):
        catalog_cache_forget.fn([product.pk], ["catalog_price"], 1)
