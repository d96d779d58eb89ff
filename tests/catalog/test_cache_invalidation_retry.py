"""An invalidation that fails right after commit is retried, not lost, and not forever.

While this clone cannot reach the cache Redis, others still may, and would go on
serving the old page: the invalidation goes into the outbox as a job, which workers
retry, round after round, until the cache takes it or every entry built before the
write has expired. When the primary's connection breaks right after the commit, so the
write's LSN cannot be read, the write still succeeds and its pages refill from the
primary.

The jobs stay in this test database's outbox: nothing here is sent to a broker, and no
worker has to run them (the tests run them by hand).
"""

import logging
import time
from decimal import Decimal

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

import jobs.outbox
from catalog import services
from catalog.actors import MAX_RETRIES, CacheUnreachableError, catalog_cache_forget
from core import redis_guard
from jobs.models import OutboxMessage
from replication.lsn import primary_current_lsn
from tests.catalog.pages import (
    cache_unreachable,
    current_price,
    listed_price,
    page,
    product_page,
    warm,
)
from tests.workers import run_as_worker

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("cache_server"),
]


@pytest.fixture(autouse=True)
def _jobs_stay_in_the_outbox(monkeypatch):
    """No send after commit: the cluster's relay reads another database, so these rows
    are never sent anywhere."""
    monkeypatch.setattr(jobs.outbox, "outbox_send_now", lambda *, row_id: False)


def _forget_jobs() -> list[list]:
    return [job.args for job in OutboxMessage.objects.filter(actor_name="catalog_cache_forget")]


def test_failed_invalidation_is_queued_and_the_job_finishes_it(client, product, settings):
    assert current_price(client, product) == "12.50 EUR"  # cached now

    reachable = cache_unreachable(settings)
    before = time.time()
    services.price_add(product=product, amount=Decimal("17.00"))
    settings.CACHES = reachable

    jobs = _forget_jobs()
    assert sorted(ids for ids, _, _, _ in jobs) == [[], [product.pk]]  # pages, listings
    assert sorted(tables for _, tables, _, _ in jobs) == [[], ["catalog_price"]]
    assert all(before <= written_at <= time.time() for *_, written_at in jobs)
    # Until the jobs run, another clone (one that reaches the cache) serves the old page...
    redis_guard.cache_breaker.succeeded()  # this process now plays that clone
    assert current_price(client, product) == "12.50 EUR"
    for args in jobs:
        catalog_cache_forget.fn(*args)
    # ...and once they have, nobody does.
    assert current_price(client, product) == "17.00 EUR"


def test_the_job_fails_for_a_retry_while_the_cache_is_unreachable(product, settings):
    cache_unreachable(settings)
    with pytest.raises(CacheUnreachableError):
        catalog_cache_forget.fn([product.pk], ["catalog_price"], 1, time.time())


def test_the_last_retry_puts_the_job_back_into_the_outbox_while_older_entries_may_live(
    product, settings
):
    lsn, written_at = primary_current_lsn(), time.time() - 60
    cache_unreachable(settings)
    run_as_worker(
        catalog_cache_forget, [product.pk], ["catalog_price"], lsn, written_at, retries=MAX_RETRIES
    )
    # Tried again from the start, still counting from the write.
    assert _forget_jobs() == [[[product.pk], ["catalog_price"], lsn, written_at]]


@pytest.mark.parametrize("retries", [0, MAX_RETRIES])
def test_the_job_ends_with_one_error_once_every_entry_older_than_the_write_has_expired(
    product, settings, caplog, retries
):
    settings.PRODUCT_PAGE_CACHE_SECONDS, settings.QUERY_CACHE_SECONDS = 600, 60
    cache_unreachable(settings)
    args = ([product.pk], ["catalog_price"], primary_current_lsn())
    # Listings built before the write are gone, product pages may not be: tried again.
    with pytest.raises(CacheUnreachableError):
        run_as_worker(catalog_cache_forget, *args, time.time() - 599, retries=0)
    caplog.clear()
    run_as_worker(catalog_cache_forget, *args, time.time() - 601, retries=retries)
    assert _forget_jobs() == []  # not queued again
    [record] = [record for record in caplog.records if record.name == "catalog.actors"]
    assert record.levelno == logging.ERROR and "given up" in record.getMessage()


def test_a_job_without_its_write_time_counts_from_its_last_round(product, settings):
    """A job queued by an older release, which did not carry the write's time."""
    lsn, started = primary_current_lsn(), time.time()
    cache_unreachable(settings)
    run_as_worker(catalog_cache_forget, [product.pk], ["catalog_price"], lsn, retries=MAX_RETRIES)
    [[*args, written_at]] = _forget_jobs()
    assert args == [[product.pk], ["catalog_price"], lsn]
    assert started <= written_at <= time.time()


def _drop_this_connection() -> None:
    """End this thread's primary connection from another one, as a restart of the
    primary or a cut network would, and wait until it is gone."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    finally:
        other.close()


def test_a_write_whose_lsn_cannot_be_read_after_commit_succeeds_and_refills_from_the_primary(
    client, product, delayed_replica
):
    """The replica applies the write 3 s late: only the primary has the new price."""
    assert current_price(client, product) == listed_price(client, product) == "12.50 EUR"
    later = []
    with transaction.atomic():
        transaction.on_commit(_drop_this_connection)  # the first of the commit's callbacks
        services.price_add(product=product, amount=Decimal("18.00"))
        transaction.on_commit(lambda: later.append("e.g. an order's outbox send"))
    assert later == ["e.g. an order's outbox send"]  # the commit's later callbacks ran
    assert current_price(client, product) == listed_price(client, product) == "18.00 EUR"
    assert OutboxMessage.objects.count() == 0  # nothing left to do later


def test_a_category_rename_whose_lsn_cannot_be_read_after_commit_changes_its_products_pages(
    client, product, delayed_replica
):
    warm(client, product)
    category = product.category
    with transaction.atomic():
        transaction.on_commit(_drop_this_connection)
        category.name = "Tarts"
        category.save()  # its products are found here, before the commit
    assert ">Tarts</a>" in page(client, "/")
    assert ">Tarts</a>" in product_page(client, product)
    assert OutboxMessage.objects.count() == 0
