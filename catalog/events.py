"""One announcement per committed catalog change: ``product_changed`` and ``tables_changed``.

Catalog writes call ``catalog_changed_on_commit`` (model signals do it for single-row
saves and deletes; services do it for bulk writes). When the transaction commits, the
signals are sent once, with the primary's WAL position (LSN) at that moment, so
listeners can refill only from data at least that new. Listeners (cache invalidation
here; page re-rendering and read models elsewhere) subscribe; the catalog never calls
them by name.

- ``product_changed``: receivers get ``product_ids`` (frozenset of ints) and ``lsn``.
- ``tables_changed``: receivers get ``tables`` (frozenset of table names) and ``lsn``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.dispatch import Signal

from catalog.models import Product
from config.lsn import primary_current_lsn

logger = logging.getLogger(__name__)
product_changed = Signal()
tables_changed = Signal()

_flushes = threading.local()  # alias → the _Flush waiting for this thread's commit


class _Flush:
    """The one on-commit callback of a transaction; collects what to announce."""

    def __init__(self) -> None:
        self.product_ids: set[int] = set()
        self.category_ids: set[int] = set()
        self.tables: set[str] = set()

    def __call__(self) -> None:
        _announce(self.product_ids, self.category_ids, self.tables)


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
    after the commit.
    """
    ids = {int(pk) for pk in product_ids if pk is not None}
    categories = {int(pk) for pk in category_ids if pk is not None}
    tables = {model._meta.db_table for model in models}
    if not ids and not categories and not tables:
        return
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        _announce(ids, categories, tables)
        return
    flush: _Flush | None = getattr(_flushes, using, None)
    if flush is None or not any(func is flush for _, func, _ in connection.run_on_commit):
        # The first write of this transaction, or the earlier flush was dropped with a
        # rolled-back savepoint (and its writes with it): register a fresh one.
        flush = _Flush()
        setattr(_flushes, using, flush)
        transaction.on_commit(flush, using=using)
    flush.product_ids |= ids
    flush.category_ids |= categories
    flush.tables |= tables


def _announce(product_ids: set[int], category_ids: set[int], tables: set[str]) -> None:
    lsn = primary_current_lsn()
    if category_ids:
        product_ids = product_ids | set(
            Product.objects.using(DEFAULT_DB_ALIAS)
            .filter(category_id__in=category_ids)
            .values_list("pk", flat=True)
        )
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
