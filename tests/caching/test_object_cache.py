"""An object cache of the test app's books (``tests.caching.books``): hits, misses, not
found, invalidation after commit, and no old object stored, on the real Redis and replica.

These tests commit (``transaction=True``): invalidation happens after commit, and the
replica only ever sees committed rows.
"""

import logging
import time

import pytest
from django.db import connections, transaction
from django.http import Http404

from tests.caching import books
from tests.caching.books import BOOK_PAGES, BookPage, book_create
from tests.caching.helpers import at_once, cache_stat, cache_unreachable, redis_round_trips
from tests.testapp.models import Book, Chapter

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("cache_server"),
]


def _page(book: Book) -> BookPage:
    return BOOK_PAGES.get(book.slug).value


def _rebuilds() -> int:
    return cache_stat("book_page.rebuild")


def test_a_warm_hit_is_two_redis_round_trips_and_no_sql(book, django_assert_num_queries):
    _page(book)  # the refill
    hits = cache_stat("book_page.hit")
    with (
        redis_round_trips() as sent,
        django_assert_num_queries(0),
        django_assert_num_queries(0, connection=connections["replica"]),
    ):
        assert _page(book).chapters == ("Chapter 1",)
    # The key names the book, then the book's hash gives the page: two keys, two slots.
    assert len(sent) == 2, sent
    assert cache_stat("book_page.hit") == hits + 1


def test_a_miss_is_rebuilt_and_stored_once(book):
    misses, rebuilds = cache_stat("book_page.miss"), _rebuilds()
    assert _page(book).title == book.title
    assert _page(book).title == book.title
    assert (cache_stat("book_page.miss"), _rebuilds()) == (misses + 1, rebuilds + 1)


def test_twenty_concurrent_misses_rebuild_once(book, settings):
    settings.CACHE_REBUILD_WAIT_SECONDS = 30  # never reached, even on a busy 2-core machine
    rebuilds, timeouts = _rebuilds(), cache_stat("book_page.wait_timeout")
    pages, errors = [], []

    def visit():
        try:
            pages.append(_page(book))
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    at_once(20, visit)

    assert errors == []
    assert [page.title for page in pages] == [book.title] * 20
    assert _rebuilds() - rebuilds == 1
    assert cache_stat("book_page.wait_timeout") == timeouts


def test_an_unknown_key_is_answered_from_the_cache_until_a_book_is_written(
    django_assert_num_queries,
):
    for _ in range(2):  # the first sets the books table's generation, the second remembers
        with pytest.raises(Http404):
            BOOK_PAGES.get("no-such-book")
    not_found = cache_stat("book_page.not_found_hit")
    with django_assert_num_queries(0), redis_round_trips() as sent, pytest.raises(Http404):
        BOOK_PAGES.get("no-such-book")
    # The key says "none while the books table's generation is G"; G is read.
    assert len(sent) == 2, sent
    assert cache_stat("book_page.not_found_hit") == not_found + 1
    written = book_create()
    written.slug = "no-such-book"
    written.save()  # a write to the books table ends the answer
    assert BOOK_PAGES.get("no-such-book").value.id == written.pk


def test_a_key_that_does_not_fit_is_404_without_redis():
    with redis_round_trips() as sent, pytest.raises(Http404):
        BOOK_PAGES.get("b" * 201)
    assert sent == []


def test_an_edited_chapter_shows_at_once(book):
    _page(book)
    chapter = book.chapters.get()
    chapter.title = "Chapter one, revised"
    chapter.save()
    assert _page(book).chapters == ("Chapter one, revised",)


def test_a_renamed_shelf_changes_every_book_on_it(book):
    neighbour = book_create(shelf=book.shelf)
    assert {_page(book).shelf, _page(neighbour).shelf} == {book.shelf.name}
    book.shelf.name = "Classics"
    book.shelf.save()
    assert {_page(book).shelf, _page(neighbour).shelf} == {"Classics"}


def test_a_renamed_book_is_not_served_under_its_old_key(book):
    old_slug = book.slug
    _page(book)
    book.slug = "renamed-book"
    book.save()
    with pytest.raises(Http404):
        BOOK_PAGES.get(old_slug)
    assert BOOK_PAGES.get("renamed-book").value.id == book.pk


def test_a_write_rolled_back_invalidates_nothing(book):
    _page(book)
    rebuilds = _rebuilds()
    with pytest.raises(RuntimeError), transaction.atomic():
        Chapter.objects.create(book=book, title="Never written")
        raise RuntimeError("changed my mind")
    assert _page(book).chapters == ("Chapter 1",)
    assert _rebuilds() == rebuilds


def test_a_write_during_the_build_keeps_the_built_object_out_of_the_cache(book, monkeypatch):
    """Store-if-unchanged: the object built from the rows before the write is served to
    the request that built it, but never stored for the next one."""
    assemble = books.book_page_read

    def assemble_then_written(slug: str) -> BookPage:
        page = assemble(slug)
        Chapter.objects.create(book=book, title="Written meanwhile", position=2)
        return page

    monkeypatch.setattr(books, "book_page_read", assemble_then_written)
    assert _page(book).chapters == ("Chapter 1",)
    monkeypatch.undo()
    assert _page(book).chapters == ("Chapter 1", "Written meanwhile")


def test_entries_are_kept_per_version(book, monkeypatch):
    _page(book)
    rebuilds = _rebuilds()
    monkeypatch.setattr(BookPage, "CACHE_VERSION", BookPage.CACHE_VERSION + 1)
    _page(book)  # a clone of the next release does not read the old shape
    assert _rebuilds() == rebuilds + 1
    monkeypatch.undo()
    _page(book)  # and the old release still has its own entry
    assert _rebuilds() == rebuilds + 1


def test_a_rendering_goes_with_the_object_it_was_made_from(book):
    cached = BOOK_PAGES.get(book.slug, rendering="html")
    assert cached.rendering is None
    BOOK_PAGES.rendering_store(cached=cached, rendering="html", data=b"<h1>Book</h1>")
    assert BOOK_PAGES.get(book.slug, rendering="html").rendering == b"<h1>Book</h1>"
    book.title = "Retitled"
    book.save()
    cached = BOOK_PAGES.get(book.slug, rendering="html")
    assert (cached.value.title, cached.rendering) == ("Retitled", None)


def test_an_unreachable_cache_assembles_from_the_database_and_warns_once(book, settings, caplog):
    cache_unreachable(settings)
    with caplog.at_level(logging.WARNING, logger="core.redis_guard"):
        for _ in range(3):
            assert _page(book).title == book.title
    warnings = [r for r in caplog.records if "Redis cache unavailable" in r.getMessage()]
    assert len(warnings) == 1


def test_a_lagging_replica_never_puts_the_old_object_back(book, delayed_replica):
    """The replica applies each commit 3 s late: a refill after the write reads the
    primary (or a replica that has replayed it), and nothing old is stored."""
    _page(book)
    chapter = book.chapters.get()
    chapter.title = "Rewritten"
    chapter.save()
    written_at, seen = time.monotonic(), set()
    while time.monotonic() - written_at < 3:
        seen.add(_page(book).chapters)
    assert seen == {("Rewritten",)}
