"""Use the Redis cache when it is there, carry on without it when it is not.

Why and how: ``docs/operating.md``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import caches
from django_redis.exceptions import ConnectionInterrupted
from redis import Redis
from redis.exceptions import RedisClusterException, RedisError

from core.breaker import Breaker

logger = logging.getLogger(__name__)
T = TypeVar("T")

# RedisClusterException: no node of a cluster answers (core.redis_cluster).
CACHE_ERRORS = (RedisError, RedisClusterException, ConnectionInterrupted)
cache_breaker = Breaker(pause_seconds=lambda: settings.CACHE_RETRY_SECONDS)


def cache_redis() -> Redis | None:
    """The raw client of the ``default`` cache, or ``None`` while it is known to be down."""
    if cache_breaker.is_open():
        return None
    try:
        return redis_client("default")
    except CACHE_ERRORS as error:  # a cluster's client asks its nodes as it is made
        cache_failed(error)
        return None


def redis_client(alias: str) -> Redis:
    """The raw redis-py client behind the django-redis cache ``alias`` (a ``RedisCluster``
    on a cluster: same commands, but a script's keys must share one slot)."""
    cache: Any = caches[alias]  # a django_redis.cache.RedisCache
    return cache.client.get_client(write=True)


def cache_key(key: str) -> str:
    """``key`` with the cache's prefix and version, as django-redis would store it."""
    return caches["default"].make_key(key)


def cache_call(operation: Callable[[Redis], T], *, fallback: T) -> T:
    """``operation(client)``, or ``fallback`` when the cache is down or fails."""
    client = cache_redis()
    if client is None:
        return fallback
    try:
        result = operation(client)
    except CACHE_ERRORS as error:
        cache_failed(error)
        return fallback
    cache_recovered()
    return result


def cache_failed(error: Exception) -> None:
    """Note a cache failure: skip the cache for a while, and warn once per outage."""
    if cache_breaker.failed():
        logger.warning(
            "Redis cache unavailable, carrying on without it (retry every %ss): %s",
            cache_breaker.pause_seconds,
            error,
        )


def cache_recovered() -> None:
    if cache_breaker.succeeded():
        logger.warning("Redis cache is back.")
