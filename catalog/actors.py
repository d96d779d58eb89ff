"""Dramatiq actors of the catalog. Thin: take plain values, call the caches."""

import dramatiq

from catalog.page_cache import product_pages_forget
from catalog.query_cache import table_generations_move


class CacheUnreachableError(Exception):
    """The cache could not be reached; Dramatiq retries the job with backoff."""


@dramatiq.actor(
    queue_name="catalog",
    max_retries=20,
    min_backoff=1_000,  # ms, doubling up to a minute: about 15 minutes of tries in all
    max_backoff=60_000,
    time_limit=30_000,
)
def catalog_cache_forget(product_ids: list[int], tables: list[str], lsn: int) -> None:
    """Invalidate what the commit at ``lsn`` changed; idempotent (the LSN only rises)."""
    pages = product_pages_forget(product_ids=frozenset(product_ids), lsn=lsn)
    listings = table_generations_move(tables=tables, lsn=lsn)
    if not (pages and listings):
        raise CacheUnreachableError(f"cache invalidation for commit {lsn} must be retried")
