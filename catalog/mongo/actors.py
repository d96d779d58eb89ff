"""Dramatiq actors of the read model. Thin: take IDs, call the projection."""

import time
from typing import Any

import dramatiq

from catalog.mongo.projection import product_document_project
from config.lsn import Lsn
from config.stats import stat_count

# Retried with backoff for about 15 minutes while Mongo or PostgreSQL is unreachable;
# `catalog_sync_mongo` repairs whatever a job that gave up left behind.
PROJECT_OPTIONS: dict[str, Any] = {
    "queue_name": "catalog",
    "max_retries": 20,
    "min_backoff": 500,  # ms, doubling up to a minute
    "max_backoff": 60_000,
    "time_limit": 30_000,
}


@dramatiq.actor(**PROJECT_OPTIONS)
def catalog_mongo_project(
    product_id: int, lsn: Lsn | None, written_at: float | None = None
) -> None:
    """Project product ``product_id`` as of its write at ``lsn`` (committed at Unix time
    ``written_at``); idempotent: an older projection never replaces a newer one."""
    product_document_project(product_id=product_id, lsn=lsn)
    if written_at is not None:
        # Write committed → document stored: the lag other browsers may see.
        stat_count("mongo_lag_ms", _bucket(1000 * (time.time() - written_at)))


def _bucket(ms: float) -> str:
    for bound in (100, 250, 500, 1000, 2000, 5000):
        if ms <= bound:
            return f"le_{bound}"
    return "over_5000"
