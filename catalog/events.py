"""One announcement per committed catalog change: ``product_changed`` and ``tables_changed``.

Catalog writes call ``catalog_changed_on_commit`` (model signals do it for single-row
saves and deletes; services do it for bulk writes). When the transaction commits, the
signals are sent once, with the primary's WAL position (LSN) at that moment, so
listeners can refill only from data at least that new. Listeners (cache invalidation
here; page re-rendering and read models elsewhere) subscribe; the catalog never calls
them by name.

- ``product_changed``: receivers get ``product_ids`` (frozenset of ints) and ``lsn``.
- ``tables_changed``: receivers get ``tables`` (frozenset of table names) and ``lsn``.

Everything an announcement names is found before the commit, in the writing
transaction (a changed category's products too), so after the commit only the LSN is
left to read. ``lsn`` is ``None`` when that read failed (the primary's connection broke
right after the commit): receivers must then drop what they hold without an LSN to
refill after (e.g. refill from the primary). A committed write never fails, and never
keeps its transaction's later on-commit callbacks from running, because of its
announcement.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.dispatch import Signal

from catalog.models import Product
from core.errors import describe
from replication.lsn import Lsn, primary_current_lsn

logger = logging.getLogger(__name__)
product_changed = Signal()
tables_changed = Signal()

_flushes = threading.local()  # alias → the _Flush waiting for this thread's commit


class _Flush:
    """The one on-commit callback of a transaction; collects what to announce."""

    def __init__(self) -> None:
        self.product_ids: set[int] = set()
        self.tables: set[str] = set()

    def __call__(self) -> None:
        _announce(self.product_ids, self.tables)


def catalog_changed_on_commit(
    *,
    product_ids: Iterable[int | None] = (),
    category_ids: Iterable[int | None] = (),
    models: Iterable[type[models.Model]] = (),
    using: str = DEFAULT_DB_ALIAS,
) -> None:
    """Announce the changed products and tables once the current transaction commits
    (at once in autocommit). Many writes in one transaction give one announcement.

    A changed category changes the page of every product in it: they are looked up
    now (one query of ids), in the writing transaction, on the connection that has just
    made the write. In autocommit, should that lookup fail, its error reaches the caller
    like a connection lost during the write itself would (the write may be committed).
    """
    ids = {int(pk) for pk in product_ids if pk is not None}
    categories = {int(pk) for pk in category_ids if pk is not None}
    tables = {model._meta.db_table for model in models}
    if categories:
        ids |= set(
            Product.objects.using(using)
            .filter(category_id__in=categories)
            .values_list("pk", flat=True)
        )
    if not ids and not tables:
        return
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        _announce(ids, tables)
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
    flush.product_ids |= ids
    flush.tables |= tables


def _announce(product_ids: set[int], tables: set[str]) -> None:
    """Send the signals for a committed change, with the primary's current LSN, or with
    ``None`` when it cannot be read (the write is committed: never fail it)."""
    lsn: Lsn | None
    try:
        lsn = primary_current_lsn()
    except Exception as error:  # noqa: BLE001
        # A broken connection stays broken until closed: reconnect for the transaction's
        # later callbacks, and for the refills from the primary.
        with contextlib.suppress(DatabaseError):
            connections[DEFAULT_DB_ALIAS].close_if_unusable_or_obsolete()
        logger.error(
            "Catalog change (products %s, tables %s) announced without its LSN, so "
            "refilled from the primary: %s",
            sorted(product_ids),
            sorted(tables),
            describe(error),
        )
        lsn = None
    # send_robust: one failing listener must not keep the others from hearing it.
    results = []
    if product_ids:
        results += product_changed.send_robust(
            sender=None, product_ids=frozenset(product_ids), lsn=lsn
        )
    if tables:
        results += tables_changed.send_robust(sender=None, tables=frozenset(tables), lsn=lsn)
    for receiver, outcome in results:
        if isinstance(outcome, Exception):
            logger.error("Catalog change listener %s failed", receiver, exc_info=outcome)
