"""An invalidation that fails right after commit is retried, not lost, and not forever.

While this clone cannot reach the cache Redis, others still may, and would go on serving
the old object: the invalidation goes into the outbox as a job, which workers retry,
round after round, until the cache takes it or every entry built before the write has
expired. When the primary's connection breaks right after the commit, so the write's LSN
cannot be read, the write still succeeds and its objects refill from the primary.

The jobs stay in this test database's outbox: nothing here is sent to a broker, and no
worker has to run them (the tests run them by hand).
"""

import logging
import time

import pytest
from django.db import transaction

import jobs.outbox
from caching.invalidation import MAX_RETRIES, CacheUnreachableError, cache_invalidate
from core import redis_guard
from jobs.models import OutboxMessage
from replication.lsn import primary_current_lsn
from tests.caching.books import BOOK_PAGES
from tests.caching.helpers import cache_unreachable, primary_connection_dropped
from tests.testapp.models import Chapter
from tests.workers import run_as_worker

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("cache_server"),
]
BOOKS = "testapp.book"
CHAPTERS = Chapter._meta.db_table


@pytest.fixture(autouse=True)
def _jobs_stay_in_the_outbox(monkeypatch):
    """No send after commit: the cluster's relay reads another database, so these rows
    are never sent anywhere."""
    monkeypatch.setattr(jobs.outbox, "outbox_send_now", lambda *, row_id: False)


def _jobs() -> list[list]:
    return [job.args for job in OutboxMessage.objects.filter(actor_name="cache_invalidate")]


def _chapters(book) -> tuple[str, ...]:
    return BOOK_PAGES.get(book.slug).value.chapters


def test_a_failed_invalidation_is_queued_and_the_job_finishes_it(book, settings):
    assert _chapters(book) == ("Chapter 1",)  # cached now
    reachable = cache_unreachable(settings)
    before = time.time()
    Chapter.objects.create(book=book, title="Chapter 2", position=2)
    settings.CACHES = reachable

    jobs = _jobs()
    assert sorted((owner or "", ids, tables) for owner, ids, tables, _, _ in jobs) == [
        ("", [], [CHAPTERS]),
        (BOOKS, [book.pk], []),
    ]
    assert all(before <= written_at <= time.time() for *_, written_at in jobs)
    # Until the jobs run, another clone (one that reaches the cache) serves the old book...
    redis_guard.cache_breaker.succeeded()  # this process now plays that clone
    assert _chapters(book) == ("Chapter 1",)
    for args in jobs:
        cache_invalidate.fn(*args)
    # ...and once they have, nobody does.
    assert _chapters(book) == ("Chapter 1", "Chapter 2")


def test_the_job_fails_for_a_retry_while_the_cache_is_unreachable(book, settings):
    cache_unreachable(settings)
    with pytest.raises(CacheUnreachableError):
        cache_invalidate.fn(BOOKS, [book.pk], [CHAPTERS], 1, time.time())


def test_the_last_retry_puts_the_job_back_into_the_outbox_while_older_entries_may_live(
    book, settings
):
    lsn, written_at = primary_current_lsn(), time.time() - 60
    cache_unreachable(settings)
    args = (BOOKS, [book.pk], [CHAPTERS], lsn, written_at)
    run_as_worker(cache_invalidate, *args, retries=MAX_RETRIES)
    # Tried again from the start, still counting from the write.
    assert _jobs() == [list(args)]


@pytest.mark.parametrize("retries", [0, MAX_RETRIES])
def test_the_job_ends_with_one_error_once_every_entry_older_than_the_write_has_expired(
    book, settings, caplog, retries
):
    settings.BOOK_PAGE_CACHE_SECONDS, settings.QUERY_CACHE_SECONDS = 600, 60
    cache_unreachable(settings)
    args = (BOOKS, [book.pk], [CHAPTERS], primary_current_lsn())
    # Cached queries built before the write are gone, books may not be: tried again.
    with pytest.raises(CacheUnreachableError):
        run_as_worker(cache_invalidate, *args, time.time() - 599, retries=0)
    caplog.clear()
    run_as_worker(cache_invalidate, *args, time.time() - 601, retries=retries)
    assert _jobs() == []  # not queued again
    [record] = [record for record in caplog.records if record.name == "caching.invalidation"]
    assert record.levelno == logging.ERROR and "given up" in record.getMessage()


def test_a_job_of_tables_only_lives_as_long_as_cached_queries(settings, caplog):
    settings.BOOK_PAGE_CACHE_SECONDS, settings.QUERY_CACHE_SECONDS = 600, 60
    cache_unreachable(settings)
    run_as_worker(cache_invalidate, None, [], [CHAPTERS], 1, time.time() - 61, retries=0)
    assert any("given up" in record.getMessage() for record in caplog.records)


def test_a_write_whose_lsn_cannot_be_read_after_commit_succeeds_and_refills_from_the_primary(
    book, delayed_replica
):
    """The replica applies the write 3 s late: only the primary has the new chapter."""
    assert _chapters(book) == ("Chapter 1",)
    later = []
    with transaction.atomic():
        transaction.on_commit(primary_connection_dropped)  # the first of the commit's callbacks
        Chapter.objects.create(book=book, title="Chapter 2", position=2)
        transaction.on_commit(lambda: later.append("e.g. an order's outbox send"))
    assert later == ["e.g. an order's outbox send"]  # the commit's later callbacks ran
    assert _chapters(book) == ("Chapter 1", "Chapter 2")
    assert OutboxMessage.objects.count() == 0  # nothing left to do later


def test_a_shelf_renamed_whose_lsn_cannot_be_read_after_commit_changes_its_books(
    book, delayed_replica
):
    BOOK_PAGES.get(book.slug)
    with transaction.atomic():
        transaction.on_commit(primary_connection_dropped)
        book.shelf.name = "Renamed"
        book.shelf.save()  # its books are found here, before the commit
    assert BOOK_PAGES.get(book.slug).value.shelf == "Renamed"
    assert OutboxMessage.objects.count() == 0
