"""One announcement per committed catalog change: ``product_changed`` and ``tables_changed``.

Catalog writes call ``catalog_changed_on_commit`` (model signals do it for single-row
saves and deletes; services do it for bulk writes). When the transaction commits, the
signals are sent once, with the primary's WAL position (LSN) at that moment, so
listeners can refill only from data at least that new. Listeners (cache invalidation
here; page re-rendering and read models elsewhere) subscribe; the catalog never calls
them by name.

- ``product_changed``: receivers get ``product_ids`` (frozenset of ints) and ``lsn``.
- ``tables_changed``: receivers get ``tables`` (frozenset of table names) and ``lsn``.

``lsn`` is ``None`` when it could not be read after the commit (the primary's connection
broke right after it): receivers must then drop what they hold without an LSN to refill
after (e.g. refill from the primary). The products of changed categories cannot be
looked up then either, so the whole announcement is also queued to be made again, with
its LSN, once the primary answers (``catalog.actors.catalog_change_announce_again``). A
committed write never fails, and never keeps its transaction's later on-commit
callbacks from running, because of its announcement.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.dispatch import Signal

from catalog.models import Product
from config.errors import describe
from config.lsn import Lsn, primary_current_lsn
from jobs.outbox import outbox_enqueue

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
        _announce_after_commit(self.product_ids, self.category_ids, self.tables)


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
        _announce_after_commit(ids, categories, tables)
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
    flush.category_ids |= categories
    flush.tables |= tables


def catalog_change_announce(
    *, product_ids: Iterable[int], category_ids: Iterable[int], tables: Iterable[str]
) -> None:
    """Send the signals for a committed change, with the primary's current LSN.

    Raises what the primary raises when the LSN or the products of ``category_ids``
    cannot be read; for callers that retry (the job that makes a failed announcement
    again). After a commit, ``catalog_changed_on_commit`` handles that failure itself.
    """
    lsn = primary_current_lsn()
    ids = set(product_ids)
    if category_ids:
        ids |= set(
            Product.objects.using(DEFAULT_DB_ALIAS)
            .filter(category_id__in=set(category_ids))
            .values_list("pk", flat=True)
        )
    _send(ids, set(tables), lsn)


def _announce_after_commit(product_ids: set[int], category_ids: set[int], tables: set[str]) -> None:
    try:
        catalog_change_announce(product_ids=product_ids, category_ids=category_ids, tables=tables)
    except Exception as error:  # noqa: BLE001  (the write is committed: never fail it)
        # A broken connection stays broken until closed: reconnect for the outbox writes
        # below and for the transaction's later callbacks.
        with contextlib.suppress(DatabaseError):
            connections[DEFAULT_DB_ALIAS].close_if_unusable_or_obsolete()
        logger.error(
            "Catalog change (products %s, categories %s, tables %s) announced without "
            "its LSN, and queued to be announced again: %s",
            sorted(product_ids),
            sorted(category_ids),
            sorted(tables),
            describe(error),
        )
        _send(product_ids, tables, None)
        _announce_again_later(product_ids, category_ids, tables)


def _send(product_ids: set[int], tables: set[str], lsn: Lsn | None) -> None:
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


def _announce_again_later(product_ids: set[int], category_ids: set[int], tables: set[str]) -> None:
    """Queue the announcement through the outbox (the relay sends it whatever happens to
    the broker), else straight to the broker, else log what is lost."""
    from catalog.actors import catalog_change_announce_again  # it imports this module

    args = (sorted(product_ids), sorted(category_ids), sorted(tables))
    try:
        with transaction.atomic(using=DEFAULT_DB_ALIAS):
            outbox_enqueue(actor=catalog_change_announce_again, args=args)
        return
    except Exception as error:  # noqa: BLE001  (the primary is likely still away)
        outbox_error = error
    try:
        catalog_change_announce_again.send(*args)
    except Exception as error:  # noqa: BLE001
        logger.error(
            "Catalog change %s could not be queued (outbox: %s; broker: %s); pages of "
            "the changed categories' products may stay stale until they expire",
            args,
            describe(outbox_error),
            describe(error),
        )
