"""Changes are announced once per commit, with its LSN, naming every owner a write changed:
through its own row, a part (also one moved away) or a group."""

from collections.abc import Iterator

import pytest
from django.db import transaction

from caching.changes import changed_on_commit, objects_changed, tables_changed
from replication.lsn import primary_current_lsn
from tests.caching.books import book_create
from tests.testapp.models import Book, Chapter, Shelf

pytestmark = pytest.mark.django_db(transaction=True)
BOOKS, CHAPTERS, SHELVES = (model._meta.db_table for model in (Book, Chapter, Shelf))


@pytest.fixture
def heard() -> Iterator[list[tuple[str, frozenset, int | None]]]:
    """Every announcement after commit: ("objects", ids, lsn) or ("tables", tables, lsn)."""
    announcements: list[tuple[str, frozenset, int | None]] = []

    def objects(sender, ids, lsn, **kwargs):
        assert sender is Book
        announcements.append(("objects", ids, lsn))

    def tables(sender, tables, lsn, **kwargs):
        announcements.append(("tables", tables, lsn))

    objects_changed.connect(objects, sender=Book, dispatch_uid="test-heard-objects")
    tables_changed.connect(tables, dispatch_uid="test-heard-tables")
    yield announcements
    objects_changed.disconnect(dispatch_uid="test-heard-objects", sender=Book)
    tables_changed.disconnect(dispatch_uid="test-heard-tables")


def test_many_writes_in_one_transaction_are_announced_once_after_commit(heard):
    before = primary_current_lsn()
    with transaction.atomic():
        first, second = book_create(), book_create()
        Chapter.objects.create(book=first, title="More")
        assert heard == []
    [(_, ids, lsn), (_, tables, same_lsn)] = heard
    assert ids == {first.pk, second.pk}
    assert tables == {BOOKS, CHAPTERS, SHELVES}
    assert lsn == same_lsn and lsn is not None and lsn > before


def test_a_rolled_back_savepoint_takes_its_writes_out_of_the_announcement(heard):
    book = book_create()
    heard.clear()
    with transaction.atomic():
        try:
            with transaction.atomic():
                Chapter.objects.create(book=book, title="Rolled back")
                raise RuntimeError("savepoint rolled back")
        except RuntimeError:
            pass
        book.title = "Kept"
        book.save()
    assert [(kind, names) for kind, names, _ in heard] == [
        ("objects", {book.pk}),
        ("tables", {BOOKS}),
    ]


def test_a_group_written_changes_every_owner_in_it(heard):
    book = book_create()
    neighbour, elsewhere = book_create(shelf=book.shelf), book_create()
    heard.clear()
    book.shelf.name = "Renamed"
    book.shelf.save()
    assert [(kind, names) for kind, names, _ in heard] == [
        ("objects", {book.pk, neighbour.pk}),
        ("tables", {SHELVES}),
    ]
    assert elsewhere.pk not in heard[0][1]


def test_bulk_writes_announce_what_their_code_names(heard):
    book = book_create()
    heard.clear()
    with transaction.atomic():
        Chapter.objects.filter(book=book).update(title="Bulk")  # no model signal
        changed_on_commit(owner=Book, ids=[book.pk], models=[Chapter])
    assert [(kind, names) for kind, names, _ in heard] == [
        ("objects", {book.pk}),
        ("tables", {CHAPTERS}),
    ]
