"""Cluster-wide counters, kept in the Redis cache so every clone adds to the same ones.

Groups: ``db_reads`` (where reads went and why: ``replica``; or the primary because
``sticky`` (replica behind the reader's own write), ``wrote``, ``replica-down``,
``pinned`` (admin), ``no-replica``) and ``cache`` (hits, misses, rebuilds per cached
object class). Losing a count when Redis is down is fine; failing a request is not.
"""

from config.redis_guard import cache_call, cache_key


def stats_key(group: str) -> str:
    """The Redis hash of ``group``'s counters: a Lua script may count into it itself."""
    return cache_key(f"stats:{group}")


def stat_count(group: str, name: str, amount: int = 1) -> None:
    cache_call(lambda client: client.hincrby(stats_key(group), name, amount), fallback=None)


def stat_counts(group: str) -> dict[str, int] | None:
    """Every counter of ``group``, or ``None`` when the cache cannot be reached."""

    def read(client) -> dict[str, int]:
        return {
            name.decode(): int(value) for name, value in client.hgetall(stats_key(group)).items()
        }

    return cache_call(read, fallback=None)
