"""Rebuild every document from PostgreSQL, or report how far the documents have drifted.

Why and how: ``docs/lessons/2b-denormalize.md``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404

from catalog.models import Product
from catalog.mongo.client import products_collection
from catalog.mongo.documents import PAGE_FIELDS, is_live, page_fields
from catalog.mongo.projection import TOMBSTONE, document_write, indexes_ensure
from catalog.selectors import product_page_get
from replication.lsn import Lsn, primary_current_lsn
from replication.routing import routing_scope

Progress = Callable[[int], None]  # called with the number of products just done


@dataclass
class Drift:
    """Documents that disagree with PostgreSQL, by product id."""

    missing: list[int] = field(default_factory=list)  # for sale, but no document
    extra: list[int] = field(default_factory=list)  # a document, but not for sale
    older: list[int] = field(default_factory=list)  # a document that differs from PostgreSQL

    @property
    def total(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.older)


def product_count() -> int:
    return Product.objects.count()


def documents_sync(*, batch_size: int, progress: Progress = lambda done: None) -> int:
    """Write every product's document (tombstones for the unpublished), remove documents
    of products that no longer exist; return how many documents were written."""
    indexes_ensure()
    written = 0
    known: list[int] = []
    for version, expected in _batches(batch_size):
        for product_id, fields in expected.items():
            written += document_write(product_id=product_id, fields=fields, version=version)
        known += expected
        progress(len(expected))
    version = primary_current_lsn()
    for product_id in _document_ids(exclude=known):
        written += document_write(product_id=product_id, fields=TOMBSTONE, version=version)
    return written


def documents_drift(*, batch_size: int, progress: Progress = lambda done: None) -> Drift:
    """Compare every document with what PostgreSQL holds now; nothing is written."""
    drift = Drift()
    known: list[int] = []
    for _version, expected in _batches(batch_size):
        stored = {d["_id"]: d for d in products_collection().find({"_id": {"$in": list(expected)}})}
        for product_id, fields in expected.items():
            document = stored.get(product_id)
            live = document is not None and is_live(document)
            if fields and not live:
                drift.missing.append(product_id)
            elif live and not fields:
                drift.extra.append(product_id)
            elif live and document is not None and _page_of(document) != fields:
                drift.older.append(product_id)
        known += expected
        progress(len(expected))
    drift.extra += _document_ids(exclude=known)
    return drift


def _batches(batch_size: int) -> Iterator[tuple[Lsn, dict[int, dict[str, Any]]]]:
    """(version, {product id: page fields or TOMBSTONE}) per batch of products."""
    ids = list(Product.objects.order_by("pk").values_list("pk", "slug"))
    for start in range(0, len(ids), batch_size):
        version = primary_current_lsn()  # before the reads: they see at least this much
        expected: dict[int, dict[str, Any]] = {}
        with routing_scope(pin_primary=True):
            for product_id, slug in ids[start : start + batch_size]:
                try:
                    expected[product_id] = page_fields(product_page_get(slug=slug))
                except Http404:  # unpublished
                    expected[product_id] = TOMBSTONE
        yield version, expected


def _document_ids(*, exclude: list[int]) -> list[int]:
    """Live documents of products not in ``exclude`` (i.e. not in PostgreSQL)."""
    query = {"_id": {"$nin": exclude}, "slug": {"$exists": True}}
    return [d["_id"] for d in products_collection().find(query, {"_id": 1})]


def _page_of(document: dict[str, Any]) -> dict[str, Any]:
    return {name: document.get(name) for name in PAGE_FIELDS}
