"""One rebuild per missing entry at a time (the stampede guard), on the test app's books and
on the guard itself.

These tests commit (``transaction=True``): writes invalidate after commit, and the
replica only ever sees committed rows. Tests of crowds let waiters wait 30 s, far more
than a rebuild takes even on a busy 2-core machine, so that none gives up.
"""

import threading
import time
from collections.abc import Callable

import pytest
from django.http import Http404

from caching.rebuild_once import read_or_rebuild_once
from core.redis_guard import cache_key, redis_client
from tests.caching.books import BOOK_PAGES, book_create
from tests.caching.helpers import at_once, cache_stat
from tests.testapp.models import Chapter

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("cache_server"),
]


def _rebuild_lock(slug: str) -> str:
    return cache_key(f"rebuild-lock:{BOOK_PAGES.rebuild_key(slug)}")


def _outcome(slug: str) -> str | int:
    try:
        return BOOK_PAGES.get(slug).value.title
    except Http404:
        return 404


def test_a_book_written_after_a_404_is_served_to_every_concurrent_reader():
    assert _outcome("late-book") == 404  # the rebuild tells its waiters "no such book"...
    book = book_create()
    book.slug = "late-book"
    book.save()
    outcomes = []
    at_once(20, lambda: outcomes.append(_outcome("late-book")))  # ...which must not reach
    assert outcomes == [book.title] * 20  # the waiters of the next rebuild


def test_a_404_is_only_told_to_the_readers_waiting_for_that_rebuild(settings):
    settings.CACHE_REBUILD_WAIT_SECONDS = 0.3
    assert _outcome("late-book") == 404
    book = book_create()
    book.slug = "late-book"
    book.save()
    client = redis_client("default")
    client.set(_rebuild_lock("late-book"), "a later rebuild, still running", ex=10)
    try:
        # Waits for that rebuild, not for the one that found nothing, then builds itself.
        assert _outcome("late-book") == book.title
    finally:
        client.delete(_rebuild_lock("late-book"))


def test_a_waiter_that_gives_up_reads_no_older_than_the_last_write(book, settings, delayed_replica):
    """A waiter whose rebuilder is stuck assembles the book itself, and must not read a
    replica that has not replayed the book's last write (here it lags 3 s)."""
    settings.CACHE_REBUILD_WAIT_SECONDS = 0.1
    BOOK_PAGES.get(book.slug)
    timeouts = cache_stat("book_page.wait_timeout")
    Chapter.objects.create(book=book, title="Chapter 2", position=2)
    cache = redis_client("default")
    cache.set(_rebuild_lock(book.slug), "a stuck rebuilder", ex=10)
    try:
        chapters = BOOK_PAGES.get(book.slug).value.chapters
    finally:
        cache.delete(_rebuild_lock(book.slug))
    assert chapters == ("Chapter 1", "Chapter 2")
    assert cache_stat("book_page.wait_timeout") == timeouts + 1


# The guard itself, with entries kept in a list, so a test can make a rebuild fail or
# be slow exactly where it wants.

ENTRY = "test-entry"
WAITERS = 10


def _started(target: Callable[[], object]) -> tuple[threading.Thread, list]:
    """``target`` running in a thread; the list gets what it returned or raised."""
    outcome: list = []

    def run():
        try:
            outcome.append(target())
        except Exception as error:  # noqa: BLE001  (reported below)
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _guarded(read, rebuild, assemble=lambda: "assembled by a waiter that gave up"):
    return read_or_rebuild_once(
        redis_client("default"),
        key=ENTRY,
        stat="test_entry",
        read=read,
        rebuild=rebuild,
        assemble=assemble,
    )


@pytest.mark.parametrize("failure", ["raises", "stores nothing"])
def test_waiters_of_a_failed_rebuild_stop_waiting_and_one_of_them_rebuilds(settings, failure):
    """A rebuild that fails (say the database is struggling) or whose store is lost lets
    go of its lock: its waiters stop waiting at once, and they rebuild one at a time,
    not all together and not after waiting out the full wait."""
    settings.CACHE_REBUILD_WAIT_SECONDS = 30
    stored: list[str] = []
    building, all_waiting = threading.Event(), threading.Event()
    reads: dict[int, int] = {}  # thread → reads so far: its second is made waiting
    guard = threading.Lock()
    running, most_at_once, rebuilds = 0, 0, 0

    def first_rebuild() -> str:
        building.set()
        assert all_waiting.wait(10)
        if failure == "raises":
            raise RuntimeError("database unavailable")
        return "page, not stored"

    def read() -> str | None:
        with guard:
            reads[threading.get_ident()] = reads.get(threading.get_ident(), 0) + 1
            if sum(count >= 2 for count in reads.values()) == WAITERS + 1:
                all_waiting.set()  # the first rebuilder rebuilds, every other one waits
        return stored[0] if stored else None

    def rebuild() -> str:
        nonlocal running, most_at_once, rebuilds
        with guard:
            running, rebuilds = running + 1, rebuilds + 1
            most_at_once = max(most_at_once, running)
        time.sleep(0.2)
        stored.append("page")
        with guard:
            running -= 1
        return "page"

    first, first_outcome = _started(lambda: _guarded(read, first_rebuild))
    assert building.wait(10)
    started = time.monotonic()
    waiters = [_started(lambda: _guarded(read, rebuild)) for _ in range(WAITERS)]
    for thread, _ in [(first, None), *waiters]:
        thread.join(timeout=60)

    assert time.monotonic() - started < 10  # far from the 30 s they could have waited
    outcome = first_outcome[0]
    assert outcome == "page, not stored" or isinstance(outcome, RuntimeError)
    assert [outcome for _, [outcome] in waiters] == ["page"] * WAITERS
    assert (rebuilds, most_at_once) == (1, 1)


def test_a_waiter_that_looks_late_still_hears_that_nothing_was_found(settings):
    """On a busy machine a waiter may look again only seconds after the rebuild found
    nothing: it is still told so, and does not rebuild (and find nothing) once more."""
    settings.CACHE_REBUILD_WAIT_SECONDS = 30
    rebuilding, waiter_looking = threading.Event(), threading.Event()
    rebuilds = []

    def nothing_found() -> str:
        rebuilds.append("rebuild")
        rebuilding.set()
        assert waiter_looking.wait(10)
        raise Http404("no such entry")

    first, first_outcome = _started(lambda: _guarded(lambda: None, nothing_found))
    assert rebuilding.wait(10)
    reads = 0

    def slow_read() -> None:
        nonlocal reads
        reads += 1
        if reads == 2:  # its first look while waiting
            waiter_looking.set()
            time.sleep(3)  # longer than "nothing found" was once kept
        return None

    with pytest.raises(Http404):
        _guarded(slow_read, nothing_found)
    first.join(timeout=60)
    assert isinstance(first_outcome[0], Http404)
    assert rebuilds == ["rebuild"]
