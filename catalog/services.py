"""Writes to the catalog. Single-row saves and deletes are announced after commit by the
model signals ``catalog.apps`` tracks; bulk writes (``update``, ``bulk_create``) send none,
so they live here, each with its ``changed_on_commit``: never call them elsewhere."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from caching.changes import changed_on_commit
from catalog.models import Price, Product, Review


def price_add(
    *,
    product: Product,
    amount: Decimal,
    currency: str = "EUR",
    valid_from: datetime | None = None,
) -> Price:
    """A new price for ``product``, from ``valid_from`` (now if omitted)."""
    price = Price(product=product, amount=amount, currency=currency)
    price.valid_from = valid_from or timezone.now()
    price.full_clean()
    price.save()
    return price


@transaction.atomic
def prices_scale(*, product_ids: Iterable[int], factor: Decimal) -> int:
    """Multiply every price of the products by ``factor`` in one UPDATE; return rows."""
    ids = list(product_ids)
    changed = Price.objects.filter(product_id__in=ids).update(amount=F("amount") * factor)
    changed_on_commit(owner=Product, ids=ids, models=[Price])
    return changed


@transaction.atomic
def products_publish_set(*, product_ids: Iterable[int], published: bool) -> int:
    """Publish or unpublish many products in one UPDATE; return how many changed."""
    ids = list(product_ids)
    changed = (
        Product.objects.filter(pk__in=ids)
        .exclude(published=published)
        .update(published=published, updated_at=timezone.now())
    )
    changed_on_commit(owner=Product, ids=ids, models=[Product])
    return changed


def review_post(*, product: Product, author_name: str, rating: int, body: str) -> Review:
    """A shopper's review of ``product``, validated (rating 1 to 5) and saved."""
    review = Review(product=product, author_name=author_name, rating=rating, body=body)
    review.full_clean()
    review.save()
    return review
