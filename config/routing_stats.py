"""Cluster-wide counters of where reads went and why, kept in the Redis cache.

Reasons: ``replica``; primary because ``sticky`` (replica behind the reader's own
write), ``wrote`` (this request wrote), ``replica-down`` (all replicas failing or
lagging), ``pinned`` (admin) or ``no-replica`` (none configured).
"""

import logging

from django.core.cache import caches
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
KEY = "stats:db-reads"


def _hash():
    cache = caches["default"]
    return cache.client.get_client(write=True), cache.make_key(KEY)


def routing_count(reason: str) -> None:
    """Count one request's read decision; a missing cache only loses the count."""
    try:
        client, key = _hash()
        client.hincrby(key, reason, 1)
    except RedisError as error:
        logger.debug("Read routing not counted: %s", error)


def routing_counts() -> dict[str, int] | None:
    """All counters, or ``None`` when the cache cannot be reached."""
    try:
        client, key = _hash()
        return {name.decode(): int(value) for name, value in client.hgetall(key).items()}
    except RedisError:
        return None
