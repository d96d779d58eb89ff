"""The product page, the object cache's first user: one ``ProductPage`` per product, by slug."""

from django.conf import settings

from caching.objects import ObjectCache, object_cache_register
from catalog.models import Product
from catalog.read_model import product_id_read, product_page_read
from catalog.selectors import ProductPage
from catalog.slugs import slug_fits

PRODUCT_PAGES: ObjectCache[ProductPage] = object_cache_register(
    ObjectCache(
        name="product-page",
        owner=Product,
        object_class=ProductPage,
        key_fits=lambda slug: slug_fits(model=Product, slug=slug),
        # Read after the write watermark: from a replica that knows every product announced.
        find_owner=lambda slug: product_id_read(slug=slug),
        assemble=lambda slug: product_page_read(slug=slug),  # Http404 when not for sale
        key_of=lambda page: page.slug,
        owner_of=lambda page: page.id,
        seconds=lambda: settings.PRODUCT_PAGE_CACHE_SECONDS,
    )
)


def product_page_cached(*, slug: str) -> ProductPage:
    """The product page from the cache, else assembled; ``Http404`` when not for sale."""
    return PRODUCT_PAGES.get(slug).value
