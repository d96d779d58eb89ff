"""Cached queries (seed lesson 3, the contrast to cached objects).

A query's result is stored under a key made of the query's name and arguments and
the *generation* of every table it reads. A committed write to a table moves the
table's generation to the commit's WAL position (LSN), so every cached query that
read the table is missed from then on: nobody has to find those entries to delete
them; they age out. That is the seed's "expiration is an issue", solved coarsely: any
write to a table throws away every cached query on it.

Refills obey the same freshness rule as cached objects: a result for generation ``G``
is computed inside ``reading_after(G)``, so a lagging replica cannot put old rows
under a new key. A generation missing from Redis (never written since the cache was
emptied, or evicted) is set to the primary's current LSN first, never read as "0".
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar, cast

from django.conf import settings
from django.utils import timezone

from config.lsn import primary_current_lsn
from config.read_routing import reading_after
from config.redis_guard import CACHE_ERRORS, cache_failed, cache_key, cache_redis, redis_client
from config.stats import stat_count

T = TypeVar("T")

# KEYS: generation key. ARGV: LSN. Keeps the highest LSN (announcements may cross).
_MOVE_GENERATION = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""


def _generation_key(table: str) -> str:
    return cache_key(f"table-generation:{table}")


def cached_query(
    *,
    name: str,
    args: str,
    tables: Iterable[str],
    compute: Callable[[], T],
    expires_at: Callable[[T], datetime | None] = lambda result: None,
) -> T:
    """``compute()``'s result, cached until a write to any of ``tables`` commits, or
    until ``expires_at(result)`` when the result goes stale with time alone."""
    client = cache_redis()
    if client is None:
        return compute()
    try:
        generations = _generations(client, sorted(tables))
        key = cache_key(f"query:{name}:{args}:" + ":".join(map(str, generations)))
        cached = client.get(key)
        if cached is not None:
            stat_count("cache", f"{name}.hit")
            return pickle.loads(cast(bytes, cached))  # noqa: S301  (our own Redis and objects)
        stat_count("cache", f"{name}.miss")
        with reading_after(max(generations)):
            result = compute()
        client.set(key, pickle.dumps(result), ex=_seconds_to_keep(expires_at(result)))
        return result
    except CACHE_ERRORS as error:
        cache_failed(error)
        return compute()


def _seconds_to_keep(expires: datetime | None) -> int:
    if expires is None:
        return settings.QUERY_CACHE_SECONDS
    seconds = math.ceil((expires - timezone.now()).total_seconds())
    return max(1, min(seconds, settings.QUERY_CACHE_SECONDS))


def table_generations_move(*, tables: Iterable[str], lsn: int) -> bool:
    """Move each table's generation to ``lsn``: cached queries on them are missed from now.

    Tried even while this process believes the cache is down (other clones may read
    it); False when the cache could not be reached, for the caller to try again later.
    """
    client = redis_client("default")
    move = client.register_script(_MOVE_GENERATION)
    try:
        for table in tables:
            move(keys=[_generation_key(table)], args=[lsn])
    except CACHE_ERRORS as error:
        cache_failed(error)
        return False
    return True


def _generations(client, tables: list[str]) -> list[int]:
    values = client.mget([_generation_key(table) for table in tables])
    if all(value is not None for value in values):
        return [int(value) for value in values]
    lsn = primary_current_lsn()
    for table, value in zip(tables, values, strict=True):
        if value is None:
            client.set(_generation_key(table), lsn, nx=True)
    return [int(v) for v in client.mget([_generation_key(table) for table in tables])]
