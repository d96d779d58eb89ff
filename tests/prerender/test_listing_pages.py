"""Every page of a paginated listing is prerendered, and a change to a product takes
out, and re-renders, every page of its listing that the change may shift."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog import services
from prerender.build import site_build
from prerender.site import site_paths
from tests.prerender.conftest import make_product, published, queued
from tests.prerender.test_rerender import _run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def listing(product, settings):
    """The product's category with seven products: three pages of three."""
    settings.CATEGORY_PAGE_SIZE = 3
    others = [make_product(category=product.category, name=f"Cake {n}") for n in range(6)]
    return product.category, sorted([product, *others], key=lambda p: (p.name, p.pk))


def _listing_paths(category) -> list[str]:
    base = f"/categories/{category.slug}/"
    return [base, f"{base}page/2/", f"{base}page/3/"]


def test_the_site_has_every_page_of_every_listing(listing):
    category, _products = listing
    paths = site_paths()
    assert paths["category"] == [f"/categories/{category.slug}/"]
    assert paths["category-page"] == _listing_paths(category)[1:]


def test_a_build_publishes_every_page_as_a_clone_serves_it(listing, client):
    category, products = listing
    site_build(processes=1)
    for path in _listing_paths(category):
        assert published(path) == client.get(path).text, path
    assert products[-1].name in published(_listing_paths(category)[2])


def test_a_change_takes_out_and_re_renders_every_page_of_its_listing(listing):
    category, products = listing
    site_build(processes=1)
    services.price_add(product=products[4], amount=Decimal("14.00"))  # on page 2
    assert all(published(path) is None for path in _listing_paths(category))
    [(paths, _ids)] = queued("prerender_pages")
    assert set(_listing_paths(category)) <= set(paths)
    _run_queued_jobs()
    assert "14.00 EUR" in published(_listing_paths(category)[1])
    assert all(published(path) is not None for path in _listing_paths(category))


def test_a_page_past_the_new_end_is_removed_for_good(listing):
    category, products = listing
    site_build(processes=1)
    services.products_publish_set(product_ids=[products[0].pk], published=False)
    _run_queued_jobs()
    assert published(_listing_paths(category)[2]) is None  # six products: two pages
    assert published(_listing_paths(category)[1]) is not None
