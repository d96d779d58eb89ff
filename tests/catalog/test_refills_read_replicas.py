"""Refills read a replica that has replayed every catalog write, never an older one.

The catalog's write watermark (``caching.watermark``) bounds what a refill must
see; these tests take away each thing a refill could rely on (the whole cache, the
product's own written LSN, the watermark itself) while the replica lags, and check that
no reader sees the old price after the write returned, and that nothing old is stored.
"""

import os
import re
import secrets
import time
from collections import Counter
from decimal import Decimal

import environ
import pytest
import requests
from django.core.cache import caches
from django.db import connections

from caching.watermark import _key as watermark_key
from catalog import services
from catalog.cache.pages import PRODUCT_PAGES, product_page_cached
from core.redis_guard import redis_client
from tests.catalog.pages import current_price, listed_price, warm
from tests.cluster import stopped, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("cache_server"),
]

LOSSES = ["nothing", "whole cache", "product record", "watermark"]


def _lose(what: str, product) -> None:
    if what == "whole cache":
        caches["default"].delete_pattern("*")
    elif what == "product record":  # evicted: the page and the product's written LSN
        redis_client("default").delete(
            PRODUCT_PAGES.hash_key(product.pk), PRODUCT_PAGES.written_key(product.pk)
        )
    elif what == "watermark":
        caches["default"].delete_pattern("*")
        redis_client("sessions").delete(watermark_key())


@pytest.mark.parametrize("lost", LOSSES)
def test_lagging_replica_never_shows_the_old_price_after_the_write(
    client, product, delayed_replica, lost
):
    warm(client, product)
    assert listed_price(client, product) == "12.50 EUR"
    services.price_add(product=product, amount=Decimal("15.00"))
    changed_at = time.monotonic()
    pages, listings = set(), set()
    while time.monotonic() - changed_at < 3:
        _lose(lost, product)
        pages.add(current_price(client, product))
        listings.add(listed_price(client, product))
    assert pages == {"15.00 EUR"}
    assert listings == {"15.00 EUR"}
    assert product_page_cached(slug=product.slug).current_price.amount == Decimal("15.00")


def test_cold_refill_reads_a_caught_up_replica(client, product):
    def refill_read_only_the_replica() -> bool:
        caches["default"].delete_pattern("*")
        read = client.get(f"/products/{product.slug}/")["X-DB-Read"]
        return read == "replica (replica)"

    wait_for(refill_read_only_the_replica, timeout=10, what="a cold page read from the replica")


def test_refill_after_a_write_reads_the_primary_while_the_replica_lags(
    client, product, delayed_replica
):
    services.price_add(product=product, amount=Decimal("15.00"))
    response = client.get(f"/products/{product.slug}/")
    assert "default (sticky)" in response["X-DB-Read"]
    assert "15.00 EUR" in response.text


# The running cluster, as shoppers reach it: transactions counted on each server.


def _cluster_database() -> str:
    return environ.Env.db_url_config(os.environ["DATABASE_URL"])["NAME"]


def _transactions() -> dict[str, int]:
    counts = {}
    for alias in ("default", "replica"):
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                [_cluster_database()],
            )
            counts[alias] = cursor.fetchone()[0]
    return counts


def _empty_cluster_cache() -> None:
    """The cluster's cached pages, listings and per-product LSNs, not its watermark."""
    client = redis_client("default")
    prefix = os.environ.get("CACHE_KEY_PREFIX", "shop")
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


def _cluster_product_paths(lb_url: str, wanted: int) -> list[str]:
    paths: list[str] = []
    home = requests.get(f"{lb_url}/", timeout=10).text
    for category in re.findall(r'href="(/categories/[\w-]+/)"', home):
        url: str | None = f"{lb_url}{category}"
        while url and len(paths) < wanted:
            listing = requests.get(url, timeout=10).text
            paths += re.findall(r'href="(/products/[\w-]+/)"', listing)
            more = re.search(r'<link rel="next" href="([^"]+)"', listing)
            url = f"{lb_url}{more.group(1)}" if more else None
    assert len(paths) >= wanted, "seed the cluster's catalog (make up)"
    return paths[:wanted]


def _cold_visits(clone_urls: list[str], product_paths: list[str]) -> Counter[str]:
    """Each page once with the cache emptied; where their reads went (``X-DB-Read``).

    Asked of the clones themselves: through nginx, a product page is the prerendered
    file, which costs no refill at all.
    """
    _empty_cluster_cache()
    missing = [f"/products/no-such-cake-{secrets.token_hex(4)}/" for _ in range(40)]
    reads: Counter[str] = Counter()
    for number, path in enumerate(product_paths + missing):
        response = requests.get(f"{clone_urls[number % len(clone_urls)]}{path}", timeout=10)
        assert response.status_code == (200 if path in product_paths else 404)
        reads[response.headers.get("X-DB-Read", "none")] += 1
    return reads


# An idle backend reports its counts up to 10 s late (PostgreSQL's PGSTAT_IDLE_INTERVAL).
STATS_SETTLE_SECONDS = 11


def _load_above_idle(
    clone_urls: list[str], paths: list[str]
) -> tuple[dict[str, float], Counter[str]]:
    """Transactions the cold visits cost each server, the idle rate just before taken off."""
    time.sleep(STATS_SETTLE_SECONDS)
    before_idle = _transactions()
    time.sleep(STATS_SETTLE_SECONDS)
    before, started = _transactions(), time.monotonic()
    reads = _cold_visits(clone_urls, paths)
    time.sleep(STATS_SETTLE_SECONDS)
    after, seconds = _transactions(), time.monotonic() - started
    idle_share = seconds / STATS_SETTLE_SECONDS
    load = {
        alias: after[alias] - before[alias] - (before[alias] - before_idle[alias]) * idle_share
        for alias in after
    }
    return load, reads


def test_cold_cache_load_lands_on_the_replica_and_survives_its_loss(cluster, lb_url, product_slug):
    paths = _cluster_product_paths(lb_url, 40)
    clone_urls = [clone["url"] for clone in cluster["clones"]]
    # The workers' periodic sweeps come in bursts: one inside the window is not the
    # pages' doing, so the quietest of three measurements counts.
    for _attempt in range(3):
        load, reads = _load_above_idle(clone_urls, paths)
        print(
            f"transactions above idle: primary {load['default']:.0f}, replica "
            f"{load['replica']:.0f}; X-DB-Read: {dict(reads)}"
        )
        if load["replica"] >= 4 * max(load["default"], 1):
            break
    assert load["replica"] >= 4 * max(load["default"], 1), (load, reads)

    with stopped("postgres-replica"):
        reads = _cold_visits(clone_urls, paths)  # every answer comes, from the primary
    assert not any(where.startswith("replica") for where in reads), reads
