"""A chapter moved to another book changes both, however the row was loaded: the book it
leaves is read from the database (locked, in a transaction), not from the instance.

These tests commit (``transaction=True``): changes are announced after commit.
"""

import threading

import pytest
from django.core import serializers
from django.core.management import call_command
from django.db import connection, connections, transaction

from tests.caching.books import BOOK_PAGES, book_create
from tests.cluster import wait_for
from tests.testapp.models import Book, Chapter

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("cache_server"),
]


def _chapters(book: Book) -> tuple[str, ...]:
    return BOOK_PAGES.get(book.slug).value.chapters


def _moved_by_a_partial_instance(chapter: Chapter, to: Book, tmp_path) -> None:
    """Loaded without its book (``.only()``), then moved."""
    partial = Chapter.objects.only("pk").get(pk=chapter.pk)
    partial.book = to
    partial.save()


def _moved_by_a_fresh_instance(chapter: Chapter, to: Book, tmp_path) -> None:
    """A new instance given the existing pk (as loaddata and some imports build them)."""
    fields = {field.attname: getattr(chapter, field.attname) for field in Chapter._meta.fields}
    Chapter(**(fields | {"book_id": to.pk})).save()


def _moved_by_loaddata(chapter: Chapter, to: Book, tmp_path) -> None:
    chapter.book = to  # not saved: only written to the fixture
    fixture = tmp_path / "moved.json"
    fixture.write_text(serializers.serialize("json", [chapter]))
    call_command("loaddata", str(fixture), verbosity=0)


MOVES = [_moved_by_a_partial_instance, _moved_by_a_fresh_instance, _moved_by_loaddata]


@pytest.mark.parametrize("move", MOVES, ids=lambda move: move.__name__.removeprefix("_moved_by_"))
def test_a_moved_chapter_leaves_one_book_for_the_other(book, move, tmp_path):
    other = book_create(chapters=0)
    assert (_chapters(book), _chapters(other)) == (("Chapter 1",), ())
    move(book.chapters.get(), other, tmp_path)
    assert (_chapters(book), _chapters(other)) == ((), ("Chapter 1",))


def test_a_chapter_moved_by_someone_else_since_it_was_loaded_leaves_the_right_book(book):
    elsewhere, other = book_create(chapters=0), book_create(chapters=0)
    chapter = book.chapters.get()
    moved_meanwhile = Chapter.objects.get(pk=chapter.pk)  # another clone's copy of the row
    moved_meanwhile.book = elsewhere
    moved_meanwhile.save()
    assert _chapters(elsewhere) == ("Chapter 1",)
    chapter.book = other  # this instance still remembers loading it for ``book``
    chapter.save()
    assert (_chapters(elsewhere), _chapters(other)) == ((), ("Chapter 1",))


def test_a_chapter_deleted_through_an_outdated_instance_leaves_the_right_book(book):
    elsewhere = book_create(chapters=0)
    chapter = book.chapters.get()
    moved_meanwhile = Chapter.objects.get(pk=chapter.pk)
    moved_meanwhile.book = elsewhere
    moved_meanwhile.save()
    assert _chapters(elsewhere) == ("Chapter 1",)
    chapter.delete()  # this instance still says ``book``
    assert _chapters(elsewhere) == ()


def test_a_chapter_moved_twice_at_once_leaves_the_book_of_the_first_move(book):
    """Two transactions move one row at once: the second reads where the row is only
    after the first has committed (the row lock), so it takes the row off the book the
    first one put it on."""
    first_to, second_to = book_create(chapters=0), book_create(chapters=0)
    chapter = book.chapters.get()
    first_saved, first_may_commit = threading.Event(), threading.Event()
    second_saved, second_may_commit = threading.Event(), threading.Event()

    def move(to: Book, saved: threading.Event, may_commit: threading.Event) -> None:
        try:
            with transaction.atomic():
                row = Chapter.objects.get(pk=chapter.pk)  # still in ``book`` for both
                row.book = to
                row.save()
                saved.set()
                assert may_commit.wait(30)
        finally:
            connections.close_all()

    first = threading.Thread(target=move, args=(first_to, first_saved, first_may_commit))
    second = threading.Thread(target=move, args=(second_to, second_saved, second_may_commit))
    first.start()
    assert first_saved.wait(30)
    second.start()
    wait_for(_someone_waits_for_a_row_lock, timeout=30, what="the second move to wait")
    first_may_commit.set()
    first.join(timeout=30)
    assert second_saved.wait(30)
    assert _chapters(first_to) == ("Chapter 1",)  # the first move is committed, alone
    second_may_commit.set()
    second.join(timeout=30)
    assert (_chapters(first_to), _chapters(second_to)) == ((), ("Chapter 1",))


def _someone_waits_for_a_row_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        (waiting,) = cursor.fetchone()
    return waiting > 0
