"""One rebuild per missing cache entry at a time, across all clones (the stampede guard).

The first reader takes a short Redis lock and rebuilds; the others poll for its result,
race for the lock again if it stored none, and assemble for themselves (unstored) after
``CACHE_REBUILD_WAIT_SECONDS``. A rebuild's "not found" reaches only its own waiters."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.http import Http404
from redis import Redis

from core.redis_guard import CACHE_ERRORS, cache_failed, cache_key
from core.redis_scripts import redis_script
from core.stats import cache_count

T = TypeVar("T")

LOCK_SECONDS = 10  # longer than any rebuild; a crashed rebuilder's lock expires
WAIT_STEP = 0.02

_RELEASE_LOCK = Path(__file__).with_name("lua") / "lock_release.lua"


def read_or_rebuild_once(
    client: Redis,
    *,
    key: str,
    stat: str,
    read: Callable[[], T | None],
    rebuild: Callable[[], T],
    assemble: Callable[[], T],
    first_read: Callable[[], T | None] | None = None,
) -> T:
    """``read()``, else the result of one ``rebuild()`` per ``key`` at a time, across all
    clones.

    ``read()`` returns the cached value or ``None``; ``rebuild()`` assembles and stores;
    ``assemble()`` only assembles (for a waiter that gave up waiting). All three must
    read fresh enough data by themselves. Redis errors propagate, for the caller's
    fallback; ``Http404`` from a rebuild reaches its waiters too. ``first_read()``, if
    given, is the first look, and counts its own hit.
    """
    value = read() if first_read is None else first_read()
    if value is not None:
        if first_read is None:
            cache_count(f"{stat}.hit")
        return value
    cache_count(f"{stat}.miss")
    lock_key = cache_key(f"rebuild-lock:{key}")
    not_found_key = cache_key(f"rebuild-not-found:{key}")
    deadline = time.monotonic() + settings.CACHE_REBUILD_WAIT_SECONDS
    while True:
        token = secrets.token_hex(8)
        if client.set(lock_key, token, nx=True, ex=LOCK_SECONDS):
            return _rebuild_holding(client, lock_key, token, not_found_key, stat, read, rebuild)
        awaited = client.get(lock_key)  # the rebuild we wait for: only its "not found" counts
        while awaited is not None:
            if time.monotonic() >= deadline:
                cache_count(f"{stat}.wait_timeout")
                return assemble()
            time.sleep(WAIT_STEP)
            value = read()
            if value is not None:
                return value
            if client.get(lock_key) != awaited:
                break  # that rebuild is over, whatever its outcome
        # Its result was stored just before it let go, if it was stored at all.
        value = read()
        if value is not None:
            return value
        if awaited is not None and client.get(not_found_key) == awaited:
            raise Http404(f"Nothing found for {key!r}.")
        # It failed or stored nothing: race the other waiters for the lock, to try again.


def _rebuild_holding(
    client: Redis,
    lock_key: str,
    token: str,
    not_found_key: str,
    stat: str,
    read: Callable[[], T | None],
    rebuild: Callable[[], T],
) -> T:
    """Rebuild while holding the lock under ``token``; let go of it whatever happens."""
    try:
        # Another rebuild may have stored it and let go of the lock since our read.
        value = read()
        if value is not None:
            return value
        value = rebuild()
    except Http404:
        # Kept as long as any waiter may wait, so even a slow one hears it.
        seconds = math.ceil(settings.CACHE_REBUILD_WAIT_SECONDS) + 1
        write_quietly(lambda: client.set(not_found_key, token, ex=seconds))
        raise
    finally:
        _release(client, lock_key, token)
    cache_count(f"{stat}.rebuild")
    return value


def write_quietly(write: Callable[[], object]) -> None:
    """Run ``write()`` (a store, a lock release); if the cache fails, that costs a later
    rebuild at most, and the request that assembled a page still gets it."""
    try:
        write()
    except CACHE_ERRORS as error:
        cache_failed(error)


def _release(client: Redis, lock_key: str, token: str) -> None:
    # Only our own lock: after LOCK_SECONDS it may be another rebuilder's.
    write_quietly(lambda: redis_script(client, _RELEASE_LOCK)(keys=[lock_key], args=[token]))
