"""Cached queries: a result stored under its name, its class's ``CACHE_VERSION``, its
arguments and the generation (the last write's LSN) of every table it reads. A commit
moves its tables' generations, so every query on them is missed from then on and ages out;
a refill for generation ``G`` reads after ``G``, once per key at a time."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TypeVar, cast

from django.conf import settings
from django.utils import timezone
from redis import Redis

from caching.entries import entry_dumps, entry_loads
from caching.rebuild_once import read_or_rebuild_once, write_quietly
from core.redis_guard import CACHE_ERRORS, cache_failed, cache_key, cache_redis, redis_client
from core.redis_scripts import redis_script
from replication.lsn import Lsn, primary_current_lsn
from replication.routing import reading_after

T = TypeVar("T")

_MOVE_GENERATION = Path(__file__).with_name("lua") / "generation_move.lua"


def table_generation_key(table: str) -> str:
    """The Redis key of ``table``'s generation. Every table's shares one hash tag, so a
    query's generations are read, and a write's moved, in one command on a Redis Cluster."""
    return cache_key(f"table-generation:{{tables}}:{table}")


def cached_query(
    *,
    name: str,
    version: int,
    args: str,
    tables: Iterable[str],
    compute: Callable[[], T],
    expires_at: Callable[[T], datetime | None] = lambda result: None,
) -> T:
    """``compute()``'s result, cached until a write to any of ``tables`` commits, or
    until ``expires_at(result)`` when the result goes stale with time alone.

    ``version`` is the ``CACHE_VERSION`` of the result's class: bump it when the shape
    changes, so clones of two releases keep apart during a rolling deploy.
    """
    client = cache_redis()
    if client is None:
        return compute()
    try:
        generations = table_generations_get(client=client, tables=sorted(tables))
    except CACHE_ERRORS as error:
        cache_failed(error)
        return compute()
    key = f"query:{name}:v{version}:{args}:" + ":".join(map(str, generations))

    def assemble() -> T:
        with reading_after(max(generations)):
            return compute()

    def rebuild() -> T:
        result = assemble()
        seconds = _seconds_to_keep(expires_at(result))
        write_quietly(lambda: client.set(cache_key(key), entry_dumps(result), ex=seconds))
        return result

    def read() -> T | None:
        cached = cast(bytes | None, client.get(cache_key(key)))
        return None if cached is None else entry_loads(cached, stat=name)

    try:
        return read_or_rebuild_once(
            client, key=key, stat=name, read=read, rebuild=rebuild, assemble=assemble
        )
    except CACHE_ERRORS as error:
        cache_failed(error)
        return assemble()


def _seconds_to_keep(expires: datetime | None) -> int:
    if expires is None:
        return settings.QUERY_CACHE_SECONDS
    seconds = math.ceil((expires - timezone.now()).total_seconds())
    return max(1, min(seconds, settings.QUERY_CACHE_SECONDS))


def table_generations_move(*, tables: Iterable[str], lsn: Lsn | None) -> bool:
    """Move each table's generation to ``lsn``: cached queries on them are missed from now.

    ``lsn=None`` (the write's LSN could not be read) drops the generations instead: the
    next reader sets them to the primary's LSN of that moment, which is past the write.
    Tried even while this process believes the cache is down (other clones may read
    it); False when the cache could not be reached, for the caller to try again later.
    """
    keys = [table_generation_key(table) for table in tables]
    if not keys:
        return True
    try:
        client = redis_client("default")
        if lsn is None:
            client.delete(*keys)
        else:
            redis_script(client, _MOVE_GENERATION)(keys=keys, args=[lsn])
    except CACHE_ERRORS as error:
        cache_failed(error)
        return False
    return True


def table_generations_get(*, client: Redis, tables: list[str]) -> list[int]:
    """The generation of each table; a missing one is set to the primary's current LSN."""
    keys = [table_generation_key(table) for table in tables]
    values = client.mget(keys)
    if None in values:
        lsn = primary_current_lsn()
        for key, value in zip(keys, values, strict=True):
            if value is None:
                client.set(key, lsn, nx=True)
        values = client.mget(keys)
    return [int(cast(bytes, value)) for value in values]
