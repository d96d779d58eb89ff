"""Helpers for the replica tests: replicated rows, extra replica aliases, who served a read.

Which server served a read is proved on the connections (the captured queries), not by
asking the router.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from django.db import connections
from django.test.utils import CaptureQueriesContext, override_settings

from replication.lsn import Lsn, primary_current_lsn
from replication.routing import reading_after, routing_scope
from tests.cluster import wait_for
from tests.testapp.models import Book
from tests.testapp.rows import book_create


def replica_has(lsn: Lsn) -> bool:
    """Whether a reader that must see ``lsn`` is served by the replica."""
    with reading_after(lsn) as scope:
        Book.objects.exists()
        return scope.read_alias == "replica"


def replicated_book(**fields: object) -> Book:
    """A committed book with a chapter, once the replica has replayed it."""
    book = book_create(**fields)
    book.chapters.create(title="Chapter 1")
    lsn = primary_current_lsn()
    wait_for(lambda: replica_has(lsn), timeout=10, what="replica catch-up")
    return book


def read_once(*watched: str) -> str:
    """Read books in a new routing scope; the one alias of ``watched`` that ran the read.

    The probe queries do not count: only a query on the book table does. Aliases that
    cannot connect must not be watched (watching opens a connection).
    """
    table = f'"{Book._meta.db_table}"'
    with ExitStack() as stack:
        captured = {
            alias: stack.enter_context(CaptureQueriesContext(connections[alias]))
            for alias in watched
        }
        with routing_scope():
            assert Book.objects.exists()
    served = [
        alias
        for alias, queries in captured.items()
        if any(table in query["sql"] for query in queries.captured_queries)
    ]
    assert len(served) == 1, f"the read ran on {served}, watching {watched}"
    return served[0]


@contextmanager
def probes_on(*aliases: str) -> Iterator[list[str]]:
    """The replica probes (``replication.replica_health``) run on ``aliases`` in the block."""
    with ExitStack() as stack:
        captured = [
            stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in aliases
        ]
        probes: list[str] = []
        yield probes
    probes += [
        query["sql"]
        for queries in captured
        for query in queries.captured_queries
        if "pg_last_wal_replay_lsn" in query["sql"]
    ]


@contextmanager
def extra_replica(alias: str, **overrides: object) -> Iterator[None]:
    """Add replica ``alias``: a connection like ``replica``'s, with ``overrides``.

    The way ``REPLICA_DATABASE_URL=url1,url2`` adds ``replica2``. The connection is
    handed to Django's handler directly instead of through ``DATABASES``, which Django's
    test case reads once, when the test starts. Name an alias that fails apart from
    the others: its cool-down outlives the block (until the next test).
    """
    replica = connections["replica"]
    connections[alias] = type(replica)({**replica.settings_dict, **overrides}, alias)
    try:
        with override_settings(DATABASE_REPLICAS=["replica", alias]):
            yield
    finally:
        connections[alias].close()
        del connections[alias]


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released): a host that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def silent_port() -> Iterator[int]:
    """A loopback port that takes TCP connections and never says a word: a hung server.

    The kernel completes the handshake for the listen backlog although nothing ever
    accepts, so a client connects at once and then waits for the server's first answer.
    """
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]
