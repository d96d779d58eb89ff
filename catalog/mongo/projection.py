"""Writes of the Mongo read model: project a product from PostgreSQL into its document.

Why and how: ``docs/lessons/2b-denormalize.md``."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404
from pymongo.errors import DuplicateKeyError

from caching.queries import table_generations_move
from catalog.models import Product
from catalog.mongo.client import products_collection
from catalog.mongo.documents import PAGE_FIELDS, page_fields
from catalog.selectors import product_page_get
from replication.lsn import Lsn, primary_current_lsn
from replication.routing import reading_after

logger = logging.getLogger(__name__)

TOMBSTONE: dict[str, Any] = {}  # the page fields of a deleted or unpublished product


def indexes_ensure() -> None:
    """Slug unique (live documents only: tombstones have none); category + name serves
    the category listing's one query in its order. Idempotent."""
    collection = products_collection()
    collection.create_index(
        "slug", unique=True, partialFilterExpression={"slug": {"$exists": True}}
    )
    collection.create_index([("category_slug", 1), ("name", 1)])


def product_document_project(*, product_id: int, lsn: Lsn | None) -> bool:
    """Rebuild the product's document from PostgreSQL, reading after ``lsn`` (its write;
    ``None``: unknown). A tombstone if the product is gone or unpublished. Idempotent;
    False when a newer version was there already."""
    version = primary_current_lsn()  # ≥ lsn: the write has committed
    with reading_after(max(version, lsn or 0)):
        slug = Product.objects.filter(pk=product_id).values_list("slug", flat=True).first()
        try:
            fields = TOMBSTONE if slug is None else page_fields(product_page_get(slug=slug))
        except Http404:  # unpublished
            fields = TOMBSTONE
    return document_write(product_id=product_id, fields=fields, version=version, written=lsn)


def document_write(
    *, product_id: int, fields: dict[str, Any], version: Lsn, written: Lsn | None = None
) -> bool:
    """Store ``fields`` (``TOMBSTONE`` to remove the page) as the document's ``version``,
    unless a newer version is stored. True if written."""
    for _attempt in range(2):
        try:
            return _write_if_newer(product_id, fields, version, written)
        except DuplicateKeyError:
            stored = products_collection().find_one({"_id": product_id}, {"version": 1})
            if stored is not None and stored["version"] > version:
                return False  # stale: a newer projection is there
            # Another product's document still holds this slug: that product has changed
            # (renamed) and its own projection is on the way. Take its page out until then.
            _evict_slug_holder(fields["slug"], product_id)
    raise RuntimeError(f"product {product_id}: document not written, slug still taken")


def _write_if_newer(
    product_id: int, fields: dict[str, Any], version: Lsn, written: Lsn | None
) -> bool:
    update: dict[str, Any] = {"$set": {**fields, "version": version}}
    removed = {name: "" for name in PAGE_FIELDS if name not in fields}
    if removed:
        update["$unset"] = removed
    update["$max"] = {"written": written or 0}
    result = products_collection().update_one(
        {"_id": product_id, "version": {"$lte": version}}, update, upsert=True
    )
    if result.upserted_id is not None and fields:
        # A product new to the read model: listings cached from documents without it
        # are dropped (a changed product's listings were dropped at its commit).
        table_generations_move(tables=[Product._meta.db_table], lsn=version)
    return True


def _evict_slug_holder(slug: str, product_id: int) -> None:
    # Its version is kept, so its own projection (newer than that) still applies.
    products_collection().update_one(
        {"slug": slug, "_id": {"$ne": product_id}},
        {"$unset": {name: "" for name in PAGE_FIELDS}},
    )


def documents_mark_written(*, product_ids: frozenset[int], lsn: Lsn) -> None:
    """Record a committed write to each product: readers that must see it take the
    SQL path until the projection lands (``catalog.mongo.selectors``)."""
    products_collection().update_many(
        {"_id": {"$in": sorted(product_ids)}}, {"$max": {"written": lsn}}
    )
