"""One announcement per commit of what it changed, with the primary's LSN at that moment.

``objects_changed`` (sender: the owner model; ``ids``, ``lsn``) and ``tables_changed``
(``tables``, ``lsn``); ``lsn`` is ``None`` when it could not be read after the commit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.db import DatabaseError, connections, models, transaction
from django.dispatch import Signal

from core.errors import describe
from replication.databases import PRIMARY
from replication.lsn import Lsn, primary_current_lsn

logger = logging.getLogger(__name__)
objects_changed = Signal()
tables_changed = Signal()

Owner = type[models.Model]
_flushes = threading.local()  # alias → the _Flush waiting for this thread's commit


class _Flush:
    """The one on-commit callback of a transaction; collects what to announce."""

    def __init__(self) -> None:
        self.ids: defaultdict[Owner, set[int]] = defaultdict(set)
        self.tables: set[str] = set()

    def __call__(self) -> None:
        _announce(self.ids, self.tables)


def changed_on_commit(
    *,
    owner: Owner | None = None,
    ids: Iterable[int | None] = (),
    groups: Mapping[str, Iterable[int | None]] | None = None,
    models: Iterable[Owner] = (),
    using: str = PRIMARY,
) -> None:
    """Announce, once the current transaction commits (at once in autocommit), that the
    ``owner`` objects ``ids`` and the tables of ``models`` changed. Many writes in one
    transaction give one announcement.

    ``groups`` maps a foreign key of ``owner`` to changed rows it points at (e.g.
    ``{"category": [7]}``): every owner in them changed. They are looked up now, in the
    writing transaction, on the connection that has just made the write, so after the
    commit only the LSN is left to read.
    """
    changed = {int(pk) for pk in ids if pk is not None}
    if owner is not None and groups:
        changed |= _owners_in(owner, groups, using)
    tables = {model._meta.db_table for model in models}
    if not changed and not tables:
        return
    owned = {owner: changed} if owner is not None and changed else {}
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        _announce(owned, tables)
        return
    flush: _Flush | None = getattr(_flushes, using, None)
    if flush is None or not any(func is flush for _, func, _ in connection.run_on_commit):
        # The first write of this transaction, or the earlier flush was dropped with a
        # rolled-back savepoint (and its writes with it): register a fresh one.
        flush = _Flush()
        setattr(_flushes, using, flush)
        # robust: should anything here still raise, Django logs it and runs the
        # transaction's later callbacks (e.g. an order's outbox send) all the same.
        transaction.on_commit(flush, using=using, robust=True)
    for model, model_ids in owned.items():
        flush.ids[model] |= model_ids
    flush.tables |= tables


def _owners_in(owner: Owner, groups: Mapping[str, Iterable[int | None]], using: str) -> set[int]:
    """The ids of every ``owner`` row in the groups (one query per foreign key)."""
    found: set[int] = set()
    for field, group_ids in groups.items():
        wanted = {int(pk) for pk in group_ids if pk is not None}
        if wanted:
            rows = owner._base_manager.using(using).filter(**{f"{field}__in": wanted})
            found |= set(rows.values_list("pk", flat=True))
    return found


def _announce(ids: Mapping[Owner, set[int]], tables: set[str]) -> None:
    """Send the signals for a committed change, with the primary's current LSN, or with
    ``None`` when it cannot be read (the write is committed: never fail it)."""
    lsn = _lsn_after_commit(ids, tables)
    # send_robust: one failing listener must not keep the others from hearing it.
    results = []
    for owner, owner_ids in ids.items():
        if owner_ids:
            results += objects_changed.send_robust(sender=owner, ids=frozenset(owner_ids), lsn=lsn)
    if tables:
        results += tables_changed.send_robust(sender=None, tables=frozenset(tables), lsn=lsn)
    for receiver, outcome in results:
        if isinstance(outcome, Exception):
            logger.error("Change listener %s failed", receiver, exc_info=outcome)


def _lsn_after_commit(ids: Mapping[Owner, set[int]], tables: set[str]) -> Lsn | None:
    try:
        return primary_current_lsn()
    except Exception as error:  # noqa: BLE001  (any failure: the write is committed)
        # A broken connection stays broken until closed: reconnect for the transaction's
        # later callbacks, and for the refills from the primary.
        with contextlib.suppress(DatabaseError):
            connections[PRIMARY].close_if_unusable_or_obsolete()
        logger.error(
            "Change (%s, tables %s) announced without its LSN, so refilled from the primary: %s",
            ", ".join(f"{owner._meta.label} {sorted(pks)}" for owner, pks in ids.items()),
            sorted(tables),
            describe(error),
        )
        return None
