"""What the catalog tests read: pages as a shopper sees them."""

from __future__ import annotations

import re


def page(client, path: str) -> str:
    """The page at ``path``, which must be there."""
    response = client.get(path)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    return response.text


def product_page(client, product) -> str:
    return page(client, f"/products/{product.slug}/")


def category_page(client, category) -> str:
    return page(client, f"/categories/{category.slug}/")


def current_price(client, product) -> str:
    """The price the product page sells at (not the price history below it)."""
    match = re.search(r'<p class="price">\s*(.*?)\s*</p>', product_page(client, product), re.S)
    assert match, "no current price on the page"
    return match.group(1)


def listed_price(client, product) -> str | None:
    """The price next to ``product`` on its category's listing; None if it is not listed."""
    listing = category_page(client, product.category)
    row = re.search(
        rf'href="/products/{re.escape(product.slug)}/">.*?</a></td>\s*<td class="num">(.*?)</td>',
        listing,
        re.S,
    )
    return row.group(1).strip() if row else None


def warm(client, product) -> str:
    """Read the product page twice: the second read is served from the cache."""
    product_page(client, product)
    return product_page(client, product)
