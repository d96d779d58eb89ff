"""The shape of a product document, and the pages read back from documents.

Why and how: ``docs/lessons/2b-denormalize.md``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from catalog.selectors import (
    CategoryPage,
    PictureData,
    PriceData,
    ProductPage,
    ProductRow,
    ReviewData,
    ReviewSummary,
    TextData,
    category_page_count,
)

SCHEMA = 1
# The fields of a live document; a tombstone has none of them.
PAGE_FIELDS = (
    "schema",
    "slug",
    "name",
    "category_slug",
    "category_name",
    "prices",
    "texts",
    "pictures",
    "review_summary",
    "latest_reviews",
)
# What a category listing reads of each document.
LISTING_FIELDS = {"slug": 1, "name": 1, "category_name": 1, "prices": 1, "version": 1, "written": 1}


def page_fields(page: ProductPage) -> dict[str, Any]:
    """The document's page fields for ``page`` (``_id`` is ``page.id``)."""
    return {
        "schema": SCHEMA,
        "slug": page.slug,
        "name": page.name,
        "category_slug": page.category_slug,
        "category_name": page.category_name,
        "prices": [
            {
                "amount": str(p.amount),
                "currency": p.currency,
                "valid_from": p.valid_from.isoformat(),
            }
            for p in page.prices
        ],
        "texts": [{"language": t.language, "title": t.title, "body": t.body} for t in page.texts],
        "pictures": [{"url": p.url, "alt": p.alt} for p in page.pictures],
        "review_summary": {
            "count": page.review_summary.count,
            "average": page.review_summary.average,
        },
        "latest_reviews": [
            {
                "author_name": r.author_name,
                "rating": r.rating,
                "body": r.body,
                "created": r.created.isoformat(),
            }
            for r in page.latest_reviews
        ],
    }


def is_live(document: dict[str, Any]) -> bool:
    """False for a tombstone (deleted or unpublished product)."""
    return document.get("schema") == SCHEMA and "slug" in document


def product_page_from(document: dict[str, Any]) -> ProductPage:
    """The page a live document holds."""
    return ProductPage(
        id=document["_id"],
        slug=document["slug"],
        name=document["name"],
        category_slug=document["category_slug"],
        category_name=document["category_name"],
        prices=_prices(document),
        texts=tuple(TextData(**t) for t in document["texts"]),
        pictures=tuple(PictureData(**p) for p in document["pictures"]),
        review_summary=ReviewSummary(**document["review_summary"]),
        latest_reviews=tuple(
            ReviewData(
                author_name=r["author_name"],
                rating=r["rating"],
                body=r["body"],
                created=datetime.fromisoformat(r["created"]),
            )
            for r in document["latest_reviews"]
        ),
    )


def category_page_from(
    documents: list[dict[str, Any]], *, slug: str, number: int, product_count: int
) -> CategoryPage:
    """Page ``number`` of a category's listing from its documents (in listing order,
    non-empty), of ``product_count`` in all.

    The current price and the next price change are worked out here, at read time, as
    the SQL path does in its query: a scheduled price starts without a new projection.
    """
    now = timezone.now()
    rows = []
    upcoming: list[datetime] = []
    for document in documents:
        prices = _prices(document)
        current = next((p for p in prices if p.valid_from <= now), None)
        upcoming += [p.valid_from for p in prices if p.valid_from > now]
        rows.append(
            ProductRow(
                slug=document["slug"],
                name=document["name"],
                price_amount=current.amount if current else None,
                price_currency=current.currency if current else None,
            )
        )
    return CategoryPage(
        slug=slug,
        name=documents[0]["category_name"],
        products=tuple(rows),
        next_price_change=min(upcoming, default=None),
        number=number,
        page_count=category_page_count(product_count=product_count),
        product_count=product_count,
    )


def _prices(document: dict[str, Any]) -> tuple[PriceData, ...]:
    return tuple(
        PriceData(
            amount=Decimal(p["amount"]),
            currency=p["currency"],
            valid_from=datetime.fromisoformat(p["valid_from"]),
        )
        for p in document["prices"]
    )
