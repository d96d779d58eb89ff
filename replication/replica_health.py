"""Is a replica fit to read from, and has it replayed up to a given write?

Why and how: ``docs/lessons/2-replicate.md``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

from core.breaker import Breaker
from core.errors import describe
from replication.lsn import Lsn, lsn_parse

logger = logging.getLogger(__name__)

# Lag in bytes of received but unreplayed WAL, not seconds; NULL when not streaming
# (why: docs/lessons/2-replicate.md, "The replica probe").
PROBE_SQL = """
SELECT pg_last_wal_replay_lsn()::text,
       CASE WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver)
            THEN GREATEST(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()),
                          0)::bigint
       END
"""

# alias → its cool-down (per process, not per request)
_cool_downs: dict[str, Breaker] = {}


@dataclass(frozen=True)
class ReplicaState:
    alias: str
    replay_lsn: Lsn
    lag_bytes: int


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", []))


def replica_is_cooling_down(alias: str) -> bool:
    return _cool_down_of(alias).is_open()


def replica_probe(alias: str) -> ReplicaState | None:
    """Probe ``alias``; ``None`` (and a cool-down) when it is unusable."""
    if replica_is_cooling_down(alias):
        return None
    try:
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(PROBE_SQL)
            replay_text, lag_bytes = cursor.fetchone()
    except DatabaseError as error:
        _cool_down(alias, f"unreachable: {describe(error)}")
        _discard_connection(alias)
        return None
    if replay_text is None:  # not in recovery: misconfigured, never read from it as a replica
        _cool_down(alias, "is not a replica (pg_last_wal_replay_lsn() is NULL)")
        return None
    if lag_bytes is None:
        _cool_down(alias, "is not streaming from the primary")
        return None
    if lag_bytes > settings.REPLICA_MAX_LAG_BYTES:
        _cool_down(alias, f"lags {lag_bytes} bytes of WAL behind what it received")
        return None
    if _cool_down_of(alias).succeeded():
        logger.warning("Replica %s is back in use.", alias)
    return ReplicaState(alias=alias, replay_lsn=lsn_parse(replay_text), lag_bytes=lag_bytes)


def _cool_down_of(alias: str) -> Breaker:
    cool_down = _cool_downs.get(alias)
    if cool_down is None:  # setdefault: a worker's threads may get here at once
        cool_down = _cool_downs.setdefault(
            alias, Breaker(pause_seconds=lambda: settings.REPLICA_COOLDOWN_SECONDS)
        )
    return cool_down


def _cool_down(alias: str, reason: str) -> None:
    """Skip ``alias`` for a while; warn once per outage, not once per request."""
    cool_down = _cool_down_of(alias)
    log = logger.warning if cool_down.failed() else logger.debug
    log("Replica %s skipped for %ss: %s", alias, cool_down.pause_seconds, reason)


def _discard_connection(alias: str) -> None:
    try:
        connections[alias].close()
    except DatabaseError:
        pass  # already broken; Django opens a fresh one next time
