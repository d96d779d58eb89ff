"""What the cache tests share: cache counters, crowds at once, an unreachable cache or
primary connection, and the Redis round trips a piece of code makes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from unittest import mock

from django.db import DEFAULT_DB_ALIAS, connection, connections
from redis.connection import AbstractConnection

from core.redis_guard import cache_key, redis_client
from core.stats import cache_counts

# Entries that cannot be loaded, as a rolling deploy or a truncated write may leave them.
UNREADABLE = {
    "not a pickle": b"not a pickle at all",
    "class renamed": b"ctests.caching.books\nBookPageV0\n.",  # AttributeError
    "module removed": b"ctests.caching.old_books\nBookPage\n.",  # ModuleNotFoundError
    "wrong arguments": b"cdatetime\ndate\n)R.",  # TypeError: date() takes arguments
}


def cache_stat(name: str) -> int:
    """A cache counter of this process, e.g. ``product_page.rebuild``."""
    return cache_counts().get(name, 0)


def at_once(shoppers: int, visit: Callable[[], None]) -> None:
    """Run ``visit`` in ``shoppers`` threads released together; each closes its connections."""
    barrier = threading.Barrier(shoppers)

    def shopper():
        try:
            barrier.wait()
            visit()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=shopper) for _ in range(shoppers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def cache_unreachable(settings) -> dict:
    """Point the cache at a closed port; return the reachable settings to restore."""
    reachable = settings.CACHES
    settings.CACHES = reachable | {
        "default": reachable["default"] | {"LOCATION": "redis://127.0.0.1:1/0"}
    }
    return reachable


@contextmanager
def redis_round_trips() -> Iterator[list[bytes]]:
    """Collect what every Redis client of this process sends, one item per round trip."""
    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    def send(self, command, *args, **kwargs):
        sent.append(command if isinstance(command, bytes) else b"".join(command))
        return original(self, command, *args, **kwargs)

    with mock.patch.object(AbstractConnection, "send_packed_command", send):
        yield sent


def primary_connection_dropped() -> None:
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


def entries_spoil(pattern: str, payload: bytes) -> int:
    """Overwrite every cached entry under ``pattern`` (hash fields or strings)."""
    client = redis_client("default")
    spoiled = 0
    for key in client.scan_iter(match=cache_key(pattern)):
        if client.type(key) == b"hash":
            for field in client.hkeys(key):
                client.hset(key, field, payload)
                spoiled += 1
        else:
            client.set(key, payload, keepttl=True)
            spoiled += 1
    return spoiled


def unreadable_warnings(caplog) -> int:
    return sum("Unreadable" in record.getMessage() for record in caplog.records)
