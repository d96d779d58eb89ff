"""Dramatiq actors of the catalog. Thin: take plain values, call the caches or events.

Neither gives up while what it needs is away. Dramatiq retries each with backoff
(about 15 minutes of tries); a last try that still fails puts the job back into the
outbox as a new row instead of failing, so the relay sends it again and the tries start
over, for as long as it takes. Only a last try that cannot write that row either (the
database is down too) ends in Dramatiq's dead-letter queue, with its error.
"""

import logging
from typing import Any

import dramatiq
from django.db import DatabaseError, transaction
from dramatiq.middleware import CurrentMessage

from catalog.events import catalog_change_announce
from catalog.page_cache import product_pages_forget
from catalog.query_cache import table_generations_move
from config.errors import ShopError, describe
from jobs.outbox import outbox_enqueue

logger = logging.getLogger(__name__)

MAX_RETRIES = 20
RETRIED: dict[str, Any] = {
    "queue_name": "catalog",
    "max_retries": MAX_RETRIES,
    "min_backoff": 1_000,  # ms, doubling up to a minute: about 15 minutes of tries in all
    "max_backoff": 60_000,
    "time_limit": 30_000,
}


class CacheUnreachableError(ShopError):
    """The cache could not be reached; the job is tried again later."""


@dramatiq.actor(**RETRIED)
def catalog_cache_forget(product_ids: list[int], tables: list[str], lsn: int | None) -> None:
    """Invalidate what the commit at ``lsn`` changed (``None``: LSN unknown, refill from
    the primary); idempotent (the LSN only rises)."""
    pages = product_pages_forget(product_ids=frozenset(product_ids), lsn=lsn)
    listings = table_generations_move(tables=tables, lsn=lsn)
    if not (pages and listings):
        error = CacheUnreachableError(f"cache invalidation for commit {lsn} must be retried")
        _retry_without_end(catalog_cache_forget, (product_ids, tables, lsn), error)


@dramatiq.actor(**RETRIED)
def catalog_change_announce_again(
    product_ids: list[int], category_ids: list[int], tables: list[str]
) -> None:
    """Announce a committed change whose announcement failed after its commit (see
    ``catalog.events``), now with an LSN; safe to run twice."""
    try:
        catalog_change_announce(product_ids=product_ids, category_ids=category_ids, tables=tables)
    except DatabaseError as error:
        _retry_without_end(
            catalog_change_announce_again, (product_ids, category_ids, tables), error
        )


def _retry_without_end(actor: dramatiq.Actor, args: tuple, error: Exception) -> None:
    """Raise ``error`` for Dramatiq's next retry; on the last one, requeue through the
    outbox instead, where the retries start over."""
    message = CurrentMessage.get_current_message()
    if message is None or message.options.get("retries", 0) < MAX_RETRIES:
        raise error
    with transaction.atomic():
        outbox_enqueue(actor=actor, args=args)
    logger.warning(
        "%s%s still failing after %s retries, queued again: %s",
        actor.actor_name,
        args,
        MAX_RETRIES,
        describe(error),
    )
