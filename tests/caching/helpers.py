"""What the cache tests share: cache counters, crowds at once, an unreachable cache, and
the Redis round trips a piece of code makes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from unittest import mock

from django.db import connections
from redis.connection import AbstractConnection

from core.stats import cache_counts


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
