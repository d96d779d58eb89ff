"""Is a replica fit to read from, and has it replayed up to a given write?

One probe query per replica per request answers both questions. A replica that
fails the probe or lags more than ``REPLICA_MAX_LAG_SECONDS`` is skipped for
``REPLICA_COOLDOWN_SECONDS`` by this process; after that it is probed again, so a
restarted replica is used again without restarting the clones.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

from config.lsn import Lsn, lsn_parse

logger = logging.getLogger(__name__)

# Lag in seconds: unknown (infinite) when the replica is not streaming from the primary
# (no WAL receiver: disconnected, or never connected since its start), since it may then
# be behind by any amount; 0 when all WAL received so far is replayed (an idle primary
# must not make a caught-up replica look late); else the age of the last replayed
# transaction (an overestimate after a quiet spell, which only sends reads to the
# primary sooner).
PROBE_SQL = """
SELECT pg_last_wal_replay_lsn()::text,
       CASE WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN 'Infinity'::float8
            WHEN pg_last_wal_receive_lsn() IS NULL THEN 'Infinity'::float8
            WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
       END
"""

# alias → monotonic time until which the replica is skipped (per process, not per request)
_cooling_down: dict[str, float] = {}


@dataclass(frozen=True)
class ReplicaState:
    alias: str
    replay_lsn: Lsn
    lag_seconds: float


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", []))


def replica_is_cooling_down(alias: str) -> bool:
    return _cooling_down.get(alias, 0.0) > time.monotonic()


def replica_probe(alias: str) -> ReplicaState | None:
    """Probe ``alias``; ``None`` (and a cool-down) when it is unusable."""
    if replica_is_cooling_down(alias):
        return None
    try:
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(PROBE_SQL)
            replay_text, lag = cursor.fetchone()
    except DatabaseError as error:
        _cool_down(alias, f"unreachable: {error}".strip())
        _discard_connection(alias)
        return None
    if replay_text is None:  # not in recovery: misconfigured, never read from it as a replica
        _cool_down(alias, "is not a replica (pg_last_wal_replay_lsn() is NULL)")
        return None
    state = ReplicaState(alias=alias, replay_lsn=lsn_parse(replay_text), lag_seconds=float(lag))
    if state.lag_seconds > settings.REPLICA_MAX_LAG_SECONDS:
        streaming = state.lag_seconds != float("inf")
        _cool_down(alias, f"lags {state.lag_seconds:.1f}s" if streaming else "is not streaming")
        return None
    if _cooling_down.pop(alias, None) is not None:
        logger.warning("Replica %s is back in use.", alias)
    return state


def _cool_down(alias: str, reason: str) -> None:
    """Skip ``alias`` for a while; warn once per outage, not once per request."""
    first_failure = alias not in _cooling_down
    _cooling_down[alias] = time.monotonic() + settings.REPLICA_COOLDOWN_SECONDS
    log = logger.warning if first_failure else logger.debug
    log("Replica %s skipped for %ss: %s", alias, settings.REPLICA_COOLDOWN_SECONDS, reason)


def _discard_connection(alias: str) -> None:
    try:
        connections[alias].close()
    except DatabaseError:
        pass  # already broken; Django opens a fresh one next time
