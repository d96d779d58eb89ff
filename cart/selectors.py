"""Reads for showing a cart: the products in it with their current prices."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from catalog.models import Product
from catalog.selectors import ProductRow, products_with_current_price


@dataclass(frozen=True)
class CartLine:
    slug: str
    name: str
    quantity: int
    unit_price: Decimal | None
    currency: str | None

    @property
    def total(self) -> Decimal | None:
        return None if self.unit_price is None else self.unit_price * self.quantity


def cart_lines(*, lines: dict[str, int]) -> list[CartLine]:
    """The cart page's lines with current prices (one query). Products no longer for
    sale drop out."""
    for_sale = products_with_current_price().filter(slug__in=list(lines))
    products = {row["slug"]: row for row in for_sale.values(*ProductRow.FIELDS)}
    return [
        CartLine(
            slug=slug,
            name=products[slug]["name"],
            quantity=quantity,
            unit_price=products[slug]["price_amount"],
            currency=products[slug]["price_currency"],
        )
        for slug, quantity in lines.items()
        if slug in products
    ]


def slugs_for_sale(*, slugs: Collection[str]) -> set[str]:
    """Which of ``slugs`` name published products: one plain query (only existence
    matters, so no prices), none for no slugs."""
    if not slugs:
        return set()
    found = Product.objects.filter(published=True, slug__in=list(slugs))
    return set(found.values_list("slug", flat=True))
