"""Which read model serves the catalog (lessons 2a and 2b): ``CATALOG_READ_MODEL=sql``
(``catalog.selectors``) or ``mongo`` (``catalog.mongo``, falling back to SQL page by page);
the caches sit in front of either. ``X-Read-Model`` says what served: cache, sql or mongo."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import TypeVar

from django.http import HttpRequest, HttpResponse

from catalog.models import Product
from catalog.mongo.selectors import category_page_find, product_id_find, product_page_find
from catalog.selectors import (
    CategoryPage,
    CategorySummary,
    ProductPage,
    category_list,
    category_page_get,
    product_page_get,
)

T = TypeVar("T")
HEADER = "X-Read-Model"
_served: ContextVar[str] = ContextVar("catalog_read_model", default="cache")


def _first_of(mongo: Callable[[], T | None], sql: Callable[[], T]) -> T:
    """The Mongo read if it can serve (``None`` when off or not fresh enough), else SQL."""
    found = mongo()
    if found is not None:
        _served.set("mongo")
        return found
    _served.set("sql")
    return sql()


def product_page_read(*, slug: str) -> ProductPage:
    """The product page from the read model; ``Http404`` if it is not for sale."""
    return _first_of(lambda: product_page_find(slug=slug), lambda: product_page_get(slug=slug))


def product_id_read(*, slug: str) -> int | None:
    """Which product has ``slug`` (the page cache's key), published or not.

    Read where the caller's scope reads: the page cache asks after the catalog's write
    watermark, so from a replica that knows every product announced so far.
    """
    product_id = product_id_find(slug=slug)
    if product_id is not None:
        return product_id
    return Product.objects.filter(slug=slug).values_list("pk", flat=True).first()


def category_page_read(*, slug: str, number: int = 1) -> CategoryPage:
    """Page ``number`` of a category's listing from the read model; ``Http404`` if there
    is no such category or page."""
    return _first_of(
        lambda: category_page_find(slug=slug, number=number),
        lambda: category_page_get(slug=slug, number=number),
    )


def categories_read() -> list[CategorySummary]:
    # The home page's counts stay a SQL aggregate in either model.
    _served.set("sql")
    return category_list()


def reports_read_model(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Set ``X-Read-Model`` on the view's response: ``cache`` unless a read model ran."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        token = _served.set("cache")
        try:
            response = view(request, *args, **kwargs)
            response[HEADER] = _served.get()
            return response
        finally:
            _served.reset(token)

    return wrapper
