"""An invalidation that fails right after commit is retried, not lost.

While this clone cannot reach the cache Redis, others still may, and would go on
serving the old page: the invalidation goes into the outbox as a job, which workers
retry, round after round, until the cache takes it. When the primary's connection
breaks right after the commit, the write still succeeds, the pages it changed are
dropped at once, and the announcement is queued to be made again.
"""

from decimal import Decimal

import dramatiq
import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from dramatiq.middleware import CurrentMessage

from catalog import services
from catalog.actors import (
    MAX_RETRIES,
    CacheUnreachableError,
    catalog_cache_forget,
    catalog_change_announce_again,
)
from config import redis_guard
from config.lsn import primary_current_lsn
from jobs.models import OutboxMessage
from tests.catalog.pages import (
    cache_unreachable,
    current_price,
    listed_price,
    page,
    product_page,
    warm,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def test_failed_invalidation_is_queued_and_the_job_finishes_it(client, product, settings):
    assert current_price(client, product) == "12.50 EUR"  # cached now

    reachable = cache_unreachable(settings)
    services.price_add(product=product, amount=Decimal("17.00"))
    settings.CACHES = reachable

    jobs = [job.args for job in OutboxMessage.objects.filter(actor_name="catalog_cache_forget")]
    assert sorted(ids for ids, _, _ in jobs) == [[], [product.pk]]  # pages, listings
    assert sorted(tables for _, tables, _ in jobs) == [[], ["catalog_price"]]
    # Until the jobs run, another clone (one that reaches the cache) serves the old page...
    redis_guard._down_until = 0.0  # this process now plays that clone
    assert current_price(client, product) == "12.50 EUR"
    for product_ids, tables, lsn in jobs:
        catalog_cache_forget.fn(product_ids, tables, lsn)
    # ...and once they have, nobody does.
    assert current_price(client, product) == "17.00 EUR"


def test_the_job_fails_for_a_retry_while_the_cache_is_unreachable(product, settings):
    cache_unreachable(settings)
    with pytest.raises(CacheUnreachableError):
        catalog_cache_forget.fn([product.pk], ["catalog_price"], 1)


def test_the_last_retry_puts_the_job_back_into_the_outbox_instead_of_failing(product, settings):
    lsn = primary_current_lsn()
    cache_unreachable(settings)
    _as_worker(catalog_cache_forget, [product.pk], ["catalog_price"], lsn, retries=MAX_RETRIES)
    [job] = OutboxMessage.objects.filter(actor_name="catalog_cache_forget")
    assert job.args == [[product.pk], ["catalog_price"], lsn]  # tried again, from the start


def _as_worker(actor: dramatiq.Actor, *args, retries: int) -> None:
    """The actor's function, as a worker would call it on attempt ``retries + 1``."""
    message = dramatiq.Message(
        queue_name=actor.queue_name,
        actor_name=actor.actor_name,
        args=args,
        kwargs={},
        options={"retries": retries},
    )
    CurrentMessage().before_process_message(None, message)
    try:
        actor.fn(*args)
    finally:
        CurrentMessage().after_process_message(None, message)


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


def test_a_write_whose_announcement_fails_after_commit_still_changes_its_pages(client, product):
    assert current_price(client, product) == listed_price(client, product) == "12.50 EUR"
    later = []
    with transaction.atomic():
        transaction.on_commit(_drop_this_connection)  # the first of the commit's callbacks
        services.price_add(product=product, amount=Decimal("18.00"))
        transaction.on_commit(lambda: later.append("e.g. an order's outbox send"))
    assert later == ["e.g. an order's outbox send"]  # the commit's later callbacks ran
    assert current_price(client, product) == listed_price(client, product) == "18.00 EUR"
    [job] = OutboxMessage.objects.filter(actor_name="catalog_change_announce_again")
    assert job.args == [[product.pk], [], ["catalog_price"]]


def test_a_category_rename_whose_announcement_fails_reaches_its_products_through_the_job(
    client, product
):
    warm(client, product)
    category = product.category
    with transaction.atomic():
        transaction.on_commit(_drop_this_connection)
        category.name = "Tarts"
        category.save()
    [job] = OutboxMessage.objects.filter(actor_name="catalog_change_announce_again")
    assert ">Tarts</a>" in page(client, "/")  # the listings were dropped at once
    # Its products could not be looked up after the commit...
    assert ">Tarts</a>" not in product_page(client, product)
    catalog_change_announce_again.fn(*job.args)
    # ...until the job, run by a worker once the primary answers, announced it again.
    assert ">Tarts</a>" in product_page(client, product)
