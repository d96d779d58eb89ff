"""Where the reads of one request or job go: the state behind the database router.

Why and how: ``docs/lessons/2-replicate.md``."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from replication.databases import PRIMARY
from replication.lsn import Lsn
from replication.replica_health import replica_aliases, replica_probe

WRITE_SQL = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|MERGE|COPY|CREATE|ALTER|DROP|TRUNCATE)\b", re.IGNORECASE
)


@dataclass
class RoutingScope:
    required_lsn: Lsn | None = None  # reads must see the WAL up to here
    pin_primary: bool = False  # e.g. the admin
    wrote: bool = False  # this scope wrote to the primary
    read_alias: str | None = None  # decided at the first read
    reason: str = ""
    # The read replica had replayed the WAL up to here when it was chosen: every read of
    # this scope sees at least that much. None when reading the primary (it sees all).
    read_lsn: Lsn | None = None
    # Every (alias, reason) this scope and the scopes nested in it read by, in order.
    reads: list[tuple[str, str]] = field(default_factory=list)

    def alias_for_read(self) -> str:
        if self.wrote and self.read_alias != PRIMARY:
            # Our own write is on the primary only, until the replicas replay it.
            return self._decide(PRIMARY, "wrote")
        if self.read_alias is None:
            return self._choose()
        return self.read_alias

    def _decide(self, alias: str, reason: str, read_lsn: Lsn | None = None) -> str:
        self.read_alias, self.reason, self.read_lsn = alias, reason, read_lsn
        if (alias, reason) not in self.reads:
            self.reads.append((alias, reason))
        return alias

    def _inherit(self, outer: RoutingScope) -> None:
        """Read where ``outer`` reads, if that meets this scope's requirements.

        The primary meets them all, and once a request has read it, a replica could only
        show it an older state. A replica meets them unless this scope is pinned to the
        primary or needs a write later than what the replica had replayed when chosen;
        whether it has replayed more since would cost the probe that is saved here.
        """
        if outer.read_alias is None:
            return
        if outer.read_alias != PRIMARY:
            if self.pin_primary:
                return
            if self.required_lsn is not None and (
                outer.read_lsn is None or self.required_lsn > outer.read_lsn
            ):
                return
        self._decide(outer.read_alias, outer.reason, outer.read_lsn)

    def _choose(self) -> str:
        if self.pin_primary:
            return self._decide(PRIMARY, "pinned")
        candidates = replica_aliases()
        if not candidates:
            return self._decide(PRIMARY, "no-replica")
        random.shuffle(candidates)
        behind = False
        for alias in candidates:
            state = replica_probe(alias)
            if state is None:
                continue
            if self.required_lsn is not None and state.replay_lsn < self.required_lsn:
                behind = True
                continue
            return self._decide(alias, "replica", state.replay_lsn)
        return self._decide(PRIMARY, "sticky" if behind else "replica-down")


_scope: ContextVar[RoutingScope | None] = ContextVar("read_routing_scope", default=None)


def current_scope() -> RoutingScope | None:
    return _scope.get()


@contextmanager
def routing_scope(
    *, required_lsn: Lsn | None = None, pin_primary: bool = False
) -> Iterator[RoutingScope]:
    """Route the reads inside the block; see the module docstring.

    Inside another scope the new one keeps the outer one's guarantees: its pin to the
    primary, its own write (read from the primary after it) and the later of the two
    required LSNs; and it reads where the outer one reads when that meets them all. A
    write inside is handed back to the outer scope on exit, so the request still sets
    its read-your-writes cookie, and so are the places it read from (``reads``).
    """
    outer = _scope.get()
    scope = RoutingScope(required_lsn=required_lsn, pin_primary=pin_primary)
    if outer is not None:
        scope.pin_primary = scope.pin_primary or outer.pin_primary
        scope.wrote = outer.wrote
        scope.required_lsn = _later(outer.required_lsn, required_lsn)
        scope._inherit(outer)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)
        if outer is not None:
            outer.wrote = outer.wrote or scope.wrote
            # The request's X-DB-Read names the reads of its nested scopes too.
            outer.reads.extend(where for where in scope.reads if where not in outer.reads)


def _later(one: Lsn | None, other: Lsn | None) -> Lsn | None:
    """The later of two WAL positions; ``None`` (no write to wait for) only if both are."""
    known = [lsn for lsn in (one, other) if lsn is not None]
    return max(known) if known else None


@contextmanager
def reading_after(lsn: Lsn | None) -> Iterator[RoutingScope]:
    """For jobs: read from a replica only once it has replayed the write at ``lsn``.

    A job enqueued after a commit carries the LSN of that commit
    (``replication.lsn.primary_current_lsn()``); ``None`` means no write to wait for.
    """
    with routing_scope(required_lsn=lsn) as scope:
        yield scope


def note_writes(execute, sql, params, many, context):
    """A ``connection.execute_wrapper`` for the primary: marks the scope as having written."""
    scope = _scope.get()
    if scope is not None and not scope.wrote and WRITE_SQL.match(sql):
        scope.wrote = True
    return execute(sql, params, many, context)
