"""Dramatiq actors of the catalog. Thin: take plain values, call the caches.

``catalog_cache_forget`` finishes an invalidation that could not reach the cache right
after its commit. It is retried while the cache stays unreachable, but not forever:
once ``max(PRODUCT_PAGE_CACHE_SECONDS, QUERY_CACHE_SECONDS)`` has passed since the
write, every entry built before it has expired anyway, and the job ends with one logged
error. Until then Dramatiq retries it with backoff (about 15 minutes of tries), and a
last try that still fails puts the job back into the outbox as a new row, so the relay
sends it again and the tries start over. Only a last try that cannot write that row
either (the database is down too) ends in Dramatiq's dead-letter queue, with its error.
"""

import logging
import time
from typing import Any

import dramatiq
from django.conf import settings
from django.db import transaction
from dramatiq.middleware import CurrentMessage

from caching.queries import table_generations_move
from caching.watermark import write_watermark_raise
from catalog.page_cache import product_pages_forget
from core.errors import ShopError
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
def catalog_cache_forget(
    product_ids: list[int], tables: list[str], lsn: int | None, written_at: float | None = None
) -> None:
    """Invalidate what the commit at ``lsn`` changed (``None``: LSN unknown, refill from
    the primary), committed at ``written_at`` (Unix time); idempotent (the LSN only
    rises). ``written_at`` is ``None`` in jobs of a release that did not carry it: their
    time is counted from this try."""
    if written_at is None:
        written_at = time.time()
    watermark = write_watermark_raise(lsn=lsn)  # first: refills after the drops read after it
    pages = product_pages_forget(product_ids=frozenset(product_ids), lsn=lsn)
    listings = table_generations_move(tables=tables, lsn=lsn)
    if watermark and pages and listings:
        return
    what = f"invalidation of products {product_ids}, tables {tables} (commit {lsn})"
    lifetime = max(settings.PRODUCT_PAGE_CACHE_SECONDS, settings.QUERY_CACHE_SECONDS)
    if time.time() - written_at >= lifetime:
        logger.error(
            "Cache unreachable for %ss since the write: %s given up (every entry built "
            "before the write has expired by now)",
            lifetime,
            what,
        )
        return
    message = CurrentMessage.get_current_message()
    if message is None or message.options.get("retries", 0) < MAX_RETRIES:
        raise CacheUnreachableError(f"cache unreachable: {what} must be retried")
    with transaction.atomic():
        outbox_enqueue(actor=catalog_cache_forget, args=(product_ids, tables, lsn, written_at))
    logger.warning(
        "Cache unreachable: %s still failing after %s retries, queued again", what, MAX_RETRIES
    )
