"""After each commit: raise the write watermark, drop the changed owners' cached objects and
move the changed tables' generations. A cache that cannot be reached gets the job through
the outbox, retried until it takes it or every entry built before the write has expired."""

import logging
import time
from collections.abc import Iterable
from typing import Any

import dramatiq
from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.dispatch import receiver
from dramatiq.middleware import CurrentMessage

from caching.changes import objects_changed, tables_changed
from caching.objects import object_caches
from caching.queries import table_generations_move
from caching.watermark import write_watermark_raise
from core.errors import ShopError
from jobs.outbox import outbox_enqueue
from replication.lsn import Lsn

logger = logging.getLogger(__name__)

MAX_RETRIES = 20
RETRIED: dict[str, Any] = {
    "queue_name": "caching",
    "max_retries": MAX_RETRIES,
    "min_backoff": 1_000,  # ms, doubling up to a minute: about 15 minutes of tries in all
    "max_backoff": 60_000,
    "time_limit": 30_000,
}


class CacheUnreachableError(ShopError):
    """The cache could not be reached; the job is tried again later."""


@receiver(objects_changed, dispatch_uid="caching-objects")
def _forget_objects(sender, ids: frozenset[int], lsn: Lsn | None, **kwargs) -> None:
    if not _invalidated(owner=sender, ids=ids, tables=(), lsn=lsn):
        _retry_later(owner=sender._meta.label_lower, ids=sorted(ids), tables=[], lsn=lsn)


@receiver(tables_changed, dispatch_uid="caching-tables")
def _move_table_generations(sender, tables: frozenset[str], lsn: Lsn | None, **kwargs) -> None:
    if not _invalidated(owner=None, ids=(), tables=tables, lsn=lsn):
        _retry_later(owner=None, ids=[], tables=sorted(tables), lsn=lsn)


def _invalidated(
    *, owner: type[models.Model] | None, ids: Iterable[int], tables: Iterable[str], lsn: Lsn | None
) -> bool:
    """Everything tried, the watermark first (a refill that misses what is dropped next
    reads after it); False if any of it could not reach its Redis."""
    done = [write_watermark_raise(lsn=lsn)]
    if owner is not None:
        done += [cache.forget(ids=ids, lsn=lsn) for cache in object_caches(owner)]
    done.append(table_generations_move(tables=tables, lsn=lsn))
    return all(done)


def _retry_later(*, owner: str | None, ids: list[int], tables: list[str], lsn: Lsn | None) -> None:
    logger.error(
        "Cache unreachable: invalidation of %s %s, tables %s queued for retry", owner, ids, tables
    )
    # Called right after the commit: now is the write's time, near enough.
    with transaction.atomic():
        outbox_enqueue(actor=cache_invalidate, args=(owner, ids, tables, lsn, time.time()))


@dramatiq.actor(**RETRIED)
def cache_invalidate(
    owner: str | None, ids: list[int], tables: list[str], lsn: int | None, written_at: float
) -> None:
    """Invalidate what the commit at ``lsn`` changed (``None``: LSN unknown, refill from
    the primary): ``ids`` of the ``owner`` model (``app_label.model``) and ``tables``;
    committed at ``written_at`` (Unix time). Idempotent: the LSNs only rise.

    Retried with backoff (about 15 minutes of tries); a last try that still fails puts
    the job back into the outbox, so the tries start over. Given up, with one logged
    error, once every entry built before the write has expired anyway.
    """
    model = apps.get_model(owner) if owner else None
    if _invalidated(owner=model, ids=ids, tables=tables, lsn=lsn):
        return
    what = f"invalidation of {owner} {ids}, tables {tables} (commit {lsn})"
    lifetime = _longest_lifetime(model if ids else None, tables)
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
        outbox_enqueue(actor=cache_invalidate, args=(owner, ids, tables, lsn, written_at))
    logger.warning(
        "Cache unreachable: %s still failing after %s retries, queued again", what, MAX_RETRIES
    )


def _longest_lifetime(owner: type[models.Model] | None, tables: list[str]) -> int:
    """Seconds after which every entry the job would drop has expired by itself."""
    seconds = [cache.seconds() for cache in object_caches(owner)] if owner else []
    if tables:
        seconds.append(settings.QUERY_CACHE_SECONDS)
    return max(seconds, default=0)
