"""The cache's subscriptions to catalog changes (``catalog.events``), after commit.

Invalidation is tried at once. When the cache cannot be reached from this process,
it is not given up: a job goes into the outbox, with the time of the write, and workers
retry it with backoff, and the outbox sends it again after each round of retries, until
the cache takes it or every entry built before the write has expired
(``catalog.actors``). Until then, other clones that still reach the cache may serve the
old page; the job closes that window as soon as the cache is back.
"""

import logging
import time

from django.db import transaction
from django.dispatch import receiver

from caching.queries import table_generations_move
from caching.watermark import write_watermark_raise
from catalog.actors import catalog_cache_forget
from catalog.events import product_changed, tables_changed
from catalog.page_cache import product_pages_forget
from jobs.outbox import outbox_enqueue
from replication.lsn import Lsn

logger = logging.getLogger(__name__)


# Each raises the write watermark first: a refill that misses what is dropped next
# reads after it.
@receiver(product_changed, dispatch_uid="catalog-page-cache")
def _forget_product_pages(sender, product_ids: frozenset[int], lsn: Lsn | None, **kwargs) -> None:
    raised = write_watermark_raise(lsn=lsn)
    if not (product_pages_forget(product_ids=product_ids, lsn=lsn) and raised):
        _retry_later(product_ids=sorted(product_ids), tables=[], lsn=lsn)


@receiver(tables_changed, dispatch_uid="catalog-query-cache")
def _move_table_generations(sender, tables: frozenset[str], lsn: Lsn | None, **kwargs) -> None:
    raised = write_watermark_raise(lsn=lsn)
    if not (table_generations_move(tables=tables, lsn=lsn) and raised):
        _retry_later(product_ids=[], tables=sorted(tables), lsn=lsn)


def _retry_later(*, product_ids: list[int], tables: list[str], lsn: Lsn | None) -> None:
    logger.error(
        "Cache unreachable: invalidation of products %s, tables %s queued for retry",
        product_ids,
        tables,
    )
    # Called right after the commit: now is the write's time, near enough.
    with transaction.atomic():
        outbox_enqueue(actor=catalog_cache_forget, args=(product_ids, tables, lsn, time.time()))
