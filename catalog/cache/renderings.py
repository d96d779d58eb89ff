"""The product page's HTML, stored beside its ``ProductPage`` in the same hash: the same
key, version and invalidation, and the same read on a hit. Valid until the next scheduled
price takes over; its field names a fingerprint of the templates (two releases never
serve each other's HTML)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import cache

from django.http import HttpResponse
from django.template.loader import get_template
from django.utils.translation import get_language

from catalog.cache.pages import PRODUCT_PAGES
from catalog.selectors import ProductPage

TEMPLATES = ("catalog/product.html", "base.html")  # what the HTML is made of


def product_page_html(*, slug: str, render: Callable[[ProductPage], HttpResponse]) -> bytes:
    """The product page's HTML in the current language, ``render(page)``'s body when it
    is not cached yet; ``Http404`` if there is no such product."""
    field = f"html-{_templates_fingerprint()}-{get_language()}"
    cached = PRODUCT_PAGES.get(slug, rendering=field)
    html = _still_valid(cached.rendering)
    if html is None:
        rendered_at = time.time()
        html = render(cached.value).content
        until = _next_price_start(cached.value, after=rendered_at)
        data = f"{until or ''}\n".encode() + html
        PRODUCT_PAGES.rendering_store(cached=cached, rendering=field, data=data)
    return html


def _still_valid(data: bytes | None) -> bytes | None:
    """The stored HTML, or None: none stored, a scheduled price has taken over since,
    or it is not what this code stores (rendered again, like an unreadable page)."""
    if data is None:
        return None
    until, _, html = data.partition(b"\n")
    try:
        if until and float(until) <= time.time():
            return None
    except ValueError:
        return None
    return html


def _next_price_start(page: ProductPage, *, after: float) -> float | None:
    starts = (price.valid_from.timestamp() for price in page.prices)
    return min((start for start in starts if start > after), default=None)


@cache
def _templates_fingerprint() -> str:
    """Of the product template and the one it extends (read once per process)."""
    digest = hashlib.sha1()  # noqa: S324  (a fingerprint, not a secret)
    for name in TEMPLATES:
        digest.update(get_template(name).template.source.encode())  # type: ignore[attr-defined]
    return digest.hexdigest()[:12]
