"""Reads of the Mongo read model. Each returns ``None`` when the document cannot serve
the request, and the caller (``catalog.read_model``) reads PostgreSQL instead.

Why and how: ``docs/lessons/2b-denormalize.md``."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from catalog.mongo.client import (
    MONGO_ERRORS,
    breaker,
    mongo_enabled,
    mongo_failed,
    mongo_succeeded,
    products_collection,
)
from catalog.mongo.documents import (
    LISTING_FIELDS,
    category_page_from,
    is_live,
    product_page_from,
)
from catalog.selectors import CategoryPage, ProductPage
from replication.routing import current_scope


def product_page_find(*, slug: str) -> ProductPage | None:
    """The product's page from its document (one query), if it may serve this request."""
    document = _find_one(slug)
    if document is None or not _fresh_enough(document):
        return None
    return product_page_from(document)


def product_id_find(*, slug: str) -> int | None:
    """Which product has ``slug``, as the documents say (the page cache's key)."""
    document = _find_one(slug)
    return None if document is None else int(document["_id"])


def category_page_find(*, slug: str, number: int = 1) -> CategoryPage | None:
    """Page ``number`` of a category's listing: a count and one page of documents in
    (name, id) order, as the SQL path pages it.

    ``None`` (read PostgreSQL) when the page has no document: only PostgreSQL knows
    whether the category exists, empty, or not at all, or the page is past the end (a 404).
    """
    if not _usable():
        return None
    size = settings.CATEGORY_PAGE_SIZE
    query = {"category_slug": slug}
    try:
        collection = products_collection()
        product_count = collection.count_documents(query)
        found = collection.find(query, LISTING_FIELDS).sort([("name", 1), ("_id", 1)])
        documents = list(found.skip((number - 1) * size).limit(size))
    except MONGO_ERRORS as error:
        mongo_failed(error, doing=f"reading category {slug!r}")
        return None
    mongo_succeeded()
    if not documents or not all(_fresh_enough(d) for d in documents):
        return None
    return category_page_from(documents, slug=slug, number=number, product_count=product_count)


def mongo_health() -> dict[str, object]:
    """For ``/healthz``: can this clone reach the read model, and how many documents."""
    collection = products_collection()
    collection.database.client.admin.command("ping")
    return {
        "ok": True,
        "documents": collection.estimated_document_count(),
    }


def _usable() -> bool:
    return mongo_enabled() and not breaker.is_open()


def _find_one(slug: str) -> dict[str, Any] | None:
    if not _usable():
        return None
    try:
        document = products_collection().find_one({"slug": slug})
    except MONGO_ERRORS as error:
        mongo_failed(error, doing=f"reading product {slug!r}")
        return None
    mongo_succeeded()
    return document if document is not None and is_live(document) else None


def _fresh_enough(document: dict[str, Any]) -> bool:
    scope = current_scope()
    if scope is None:
        return True  # a shell or command: no write of its own to wait for
    if scope.wrote:
        return False  # this request's write is in PostgreSQL only
    if scope.required_lsn is None and not scope.pin_primary:
        return True
    version = int(document["version"])
    if scope.required_lsn is not None and version >= scope.required_lsn:
        return True
    return int(document.get("written", 0)) <= version
