"""A cached object that cannot be loaded (a rolling deploy, a truncated write) is a miss:
rebuilt and overwritten, logged once, never a failed request."""

import logging

import pytest

from caching import entries
from tests.caching.books import BOOK_PAGES
from tests.caching.helpers import UNREADABLE, cache_stat, entries_spoil, unreadable_warnings

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("cache_server"),
]


@pytest.mark.parametrize("payload", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_an_unreadable_object_is_rebuilt_and_logged_once(book, caplog, monkeypatch, payload):
    monkeypatch.setattr(entries, "_reported", set())  # nothing logged yet in this process
    BOOK_PAGES.get(book.slug)
    with caplog.at_level(logging.WARNING, logger="caching.entries"):
        for _ in range(2):
            assert entries_spoil("book-page:*", payload) == 1
            assert BOOK_PAGES.get(book.slug).value.title == book.title
    assert unreadable_warnings(caplog) == 1
    assert cache_stat("book_page.unreadable") >= 2  # every read of one counts
