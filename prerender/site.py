"""Which pages are prerendered: django-distill URL generators over the catalog's URLs.

The catalog's own URL patterns are registered with distill here (the catalog knows
nothing of prerendering), each with a generator of its URL parameters: the home page,
every page of every category's listing, every published product.
"""

from __future__ import annotations

from collections.abc import Iterator

import django_distill
from django.urls import URLPattern
from django_distill.renderer import DistillRenderer

from catalog.models import Product
from catalog.selectors import category_list, category_page_count


def category_listing_pages(*, slug: str, page_count: int) -> Iterator[dict[str, str]]:
    """URL parameters of every page of one category's listing: page 1 at the listing's
    own address (``category``), the others under ``page/<n>/`` (``category-page``)."""
    yield {"slug": slug}
    for number in range(2, page_count + 1):
        yield {"slug": slug, "number": str(number)}


def _listing_pages() -> Iterator[dict[str, str]]:
    for category in category_list():
        page_count = category_page_count(product_count=category.product_count)
        yield from category_listing_pages(slug=category.slug, page_count=page_count)


def _home() -> None:
    return None  # one page, no parameters


def _categories() -> Iterator[dict[str, str]]:
    return (page for page in _listing_pages() if "number" not in page)


def _category_pages() -> Iterator[dict[str, str]]:
    return (page for page in _listing_pages() if "number" in page)


def _products() -> Iterator[dict[str, str]]:
    published = Product.objects.filter(published=True).order_by("slug")
    for slug in published.values_list("slug", flat=True).iterator(chunk_size=2000):
        yield {"slug": slug}


GENERATORS = {
    "home": _home,
    "category": _categories,
    "category-page": _category_pages,
    "product": _products,
}


def distilled_patterns() -> list[URLPattern]:
    """The catalog's URL patterns, as distill patterns with their generators."""
    from catalog import urls

    patterns = []
    for pattern in urls.urlpatterns:
        if isinstance(pattern, URLPattern) and pattern.name in GENERATORS:
            distilled = django_distill.distill_path(  # type: ignore[misc]
                str(pattern.pattern),
                pattern.callback,
                name=pattern.name,
                distill_func=GENERATORS[pattern.name],
            )
            distilled.distill_namespace = urls.app_name
            patterns.append(distilled)
    return patterns


def site_paths() -> dict[str, list[str]]:
    """The path of every page to prerender, by kind: ``home``, ``category``, ``product``."""
    renderer = DistillRenderer(urls_to_render=distilled_patterns())
    paths: dict[str, list[str]] = {name: [] for name in GENERATORS}
    for pattern, _parameters, path in renderer.get_urls_to_render():
        paths[str(pattern.name)].append(path)
    return paths
