"""Dramatiq actors of the read model. Thin: take IDs, call the projection."""

import time
from typing import Any

import dramatiq
from prometheus_client import Histogram

from catalog.mongo.projection import product_document_project
from replication.lsn import Lsn

# Retried with backoff for about 15 minutes while Mongo or PostgreSQL is unreachable;
# `catalog_sync_mongo` repairs whatever a job that gave up left behind.
PROJECT_OPTIONS: dict[str, Any] = {
    "queue_name": "catalog",
    "max_retries": 20,
    "min_backoff": 500,  # ms, doubling up to a minute
    "max_backoff": 60_000,
    "time_limit": 30_000,
}
# Write committed → document stored: the lag other browsers may see (the worker's metrics).
PROJECTION_LAG = Histogram(
    "shop_mongo_projection_lag_seconds",
    "From a catalog write's commit to its Mongo document stored, per projection job.",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 5.0),
)


@dramatiq.actor(**PROJECT_OPTIONS)
def catalog_mongo_project(
    product_id: int, lsn: Lsn | None, written_at: float | None = None
) -> None:
    """Project product ``product_id`` as of its write at ``lsn`` (committed at Unix time
    ``written_at``); idempotent: an older projection never replaces a newer one."""
    product_document_project(product_id=product_id, lsn=lsn)
    if written_at is not None:
        PROJECTION_LAG.observe(max(0.0, time.time() - written_at))
