"""The connection to the read model's MongoDB, and what to do when it fails.

Why and how: ``docs/lessons/2b-denormalize.md``."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.errors import PyMongoError

from core.breaker import Breaker
from core.errors import describe

logger = logging.getLogger(__name__)

MONGO_ERRORS = (PyMongoError,)
DEFAULT_DATABASE = "scaleshop"  # when MONGO_URL names none
breaker = Breaker(pause_seconds=lambda: settings.MONGO_RETRY_SECONDS)
_clients: dict[str, MongoClient] = {}
_lock = threading.Lock()


def mongo_enabled() -> bool:
    return settings.CATALOG_READ_MODEL == "mongo"


def products_collection() -> Collection[dict[str, Any]]:
    """The collection of product documents (``catalog.mongo.documents``)."""
    url = settings.MONGO_URL
    with _lock:
        client = _clients.get(url)
        if client is None:
            timeout_ms = int(settings.MONGO_TIMEOUT_SECONDS * 1000)
            client = _clients[url] = MongoClient(
                url,
                serverSelectionTimeoutMS=timeout_ms,
                connectTimeoutMS=timeout_ms,
                socketTimeoutMS=2 * timeout_ms,
                appname="scaleshop",
            )
    return client.get_database(client.get_default_database(DEFAULT_DATABASE).name)["products"]


def mongo_failed(error: Exception, *, doing: str) -> None:
    """Note a failure: pages go to PostgreSQL for a pause; logged once per outage."""
    if breaker.failed():
        logger.warning(
            "MongoDB unavailable (%s), catalog pages read from PostgreSQL for now: %s",
            doing,
            describe(error),
        )


def mongo_succeeded() -> None:
    if breaker.succeeded():
        logger.info("MongoDB reachable again: catalog pages read from it")
