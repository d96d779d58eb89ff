"""The storefront's reads, through the caches. Views call these, not the selectors.

Product pages are cached objects (``catalog.cache.pages``); the home and category listings
are cached queries (``caching.queries``), kept as the seed's contrast."""

from django.http import Http404

from caching.queries import cached_query
from catalog.cache.pages import product_page_cached
from catalog.models import Category, Price, Product
from catalog.read_model import categories_read, category_page_read
from catalog.selectors import CategoryPage, CategorySummary, ProductPage
from catalog.slugs import slug_fits

__all__ = ["categories", "category_page", "product_page"]


def _tables(*models) -> list[str]:
    return [model._meta.db_table for model in models]


def categories() -> list[CategorySummary]:
    return cached_query(
        name="categories",
        version=CategorySummary.CACHE_VERSION,
        args="",
        tables=_tables(Category, Product),
        compute=categories_read,
    )


def category_page(*, slug: str, number: int = 1) -> CategoryPage:
    """Each page of a listing is a cached query of its own."""
    if not slug_fits(model=Category, slug=slug):
        raise Http404("No such category.")
    return cached_query(
        name="category_page",
        version=CategoryPage.CACHE_VERSION,
        args=f"{slug}:{number}",
        tables=_tables(Category, Product, Price),
        compute=lambda: category_page_read(slug=slug, number=number),
        expires_at=lambda page: page.next_price_change,
    )


def product_page(*, slug: str) -> ProductPage:
    return product_page_cached(slug=slug)
