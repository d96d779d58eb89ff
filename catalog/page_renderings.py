"""The product page's HTML, cached beside its ``ProductPage`` (``catalog.page_cache``).

Rendering the template was most of a warm hit's time. The whole page is rendered once
per language and stored in the product's hash, next to the object it was rendered
from: the same key, version and invalidation, and the same single read on a hit. Only
per-request parts are left out: the CSRF input goes into a slot at serving time (the
cart count already comes from ``/cart.json``). A rendering is valid until the next
scheduled price takes over, and the field it is stored under names the fingerprint
of the templates, so two releases never serve each other's HTML.
"""

from __future__ import annotations

import hashlib
import time
from functools import cache

from django.http import HttpRequest
from django.template.backends.utils import csrf_input
from django.template.loader import get_template, render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from catalog.page_cache import product_page_entry, product_page_rendering_store
from catalog.selectors import ProductPage

TEMPLATE = "catalog/product.html"
TEMPLATES = (TEMPLATE, "base.html")  # what the HTML is made of
CSRF_SLOT = "<!--csrf-input-->"


def product_page_html(*, request: HttpRequest, slug: str) -> str:
    """The product page for ``request``'s language; ``Http404`` if there is none."""
    language = get_language()
    field = f"html-{_templates_fingerprint()}-{language}"
    cached = product_page_entry(slug=slug, rendering=field)
    html = _still_valid(cached.rendering)
    if html is None:
        html, until = _render(cached.page, language)
        data = f"{until or ''}\n{html}".encode()
        product_page_rendering_store(cached=cached, rendering=field, data=data)
    return html.replace(CSRF_SLOT, str(csrf_input(request)), 1)


def _still_valid(data: bytes | None) -> str | None:
    """The stored HTML, or None: none stored, a scheduled price has taken over since,
    or it is not what this code stores (rendered again, like an unreadable page)."""
    if data is None:
        return None
    until, _, html = data.decode(errors="replace").partition("\n")
    try:
        if until and float(until) <= time.time():
            return None
    except ValueError:
        return None
    return html


def _render(page: ProductPage, language: str) -> tuple[str, float | None]:
    """The HTML, and the Unix time at which a scheduled price makes it stale."""
    rendered_at = time.time()
    html = render_to_string(
        TEMPLATE,
        {"page": page, "text": page.text_for(language), "csrf_slot": mark_safe(CSRF_SLOT)},  # noqa: S308
    )
    starts = (price.valid_from.timestamp() for price in page.prices)
    return html, min((start for start in starts if start > rendered_at), default=None)


@cache
def _templates_fingerprint() -> str:
    """Of the product template and the one it extends (read once per process)."""
    digest = hashlib.sha1()  # noqa: S324  (a fingerprint, not a secret)
    for name in TEMPLATES:
        digest.update(get_template(name).template.source.encode())  # type: ignore[attr-defined]
    return digest.hexdigest()[:12]
