"""Committed writes change every page that shows them: listings, product pages, and
writes made from the admin's list actions.

These tests commit (``transaction=True``): changes are announced only after commit, so
in a test that never commits the caches would never hear of them.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from catalog import services
from catalog.models import Product
from tests.catalog.pages import current_price, listed_price, page, product_page, warm
from tests.factories import CategoryFactory, PriceFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("cache_server"),
]


def _home_count(client, category) -> str:
    home = page(client, "/")
    after = home.split(f">{category.name}</a>", 1)[1]
    return after.split("</span>", 1)[0].rsplit(">", 1)[1]


def _cached(client, product) -> None:
    """Home, the product's listing and its page, each read twice: served from the cache."""
    for _ in range(2):
        page(client, "/")
        listed_price(client, product)
        product_page(client, product)


def test_price_write_changes_the_category_listing(client, product):
    _cached(client, product)
    services.price_add(product=product, amount=Decimal("11.00"))
    assert listed_price(client, product) == "11.00 EUR"


@pytest.mark.parametrize("how", ["service", "save"])
def test_unpublish_and_publish_change_home_and_category_listings(client, product, how):
    def publish(published: bool) -> None:
        if how == "service":
            services.products_publish_set(product_ids=[product.pk], published=published)
        else:
            product.published = published
            product.save()

    category = product.category
    _cached(client, product)
    assert _home_count(client, category) == "1 product"
    publish(False)
    assert _home_count(client, category) == "0 products"
    assert listed_price(client, product) is None
    publish(True)
    assert _home_count(client, category) == "1 product"
    assert listed_price(client, product) == "12.50 EUR"


def test_product_moved_to_another_category_changes_both_listings_and_home(client, product):
    old, new = product.category, CategoryFactory(name="Tarts")
    _cached(client, product)
    assert _home_count(client, new) == "0 products"
    product.category = new
    product.save()
    assert f'href="/products/{product.slug}/"' not in page(client, f"/categories/{old.slug}/")
    assert listed_price(client, product) == "12.50 EUR"  # now on the new category's listing
    assert (_home_count(client, old), _home_count(client, new)) == ("0 products", "1 product")
    assert ">Tarts</a>" in product_page(client, product)


def test_category_rename_shows_on_the_pages_of_all_its_products(client, product):
    """A rename drops the pages of every product in the category, well over one
    pipelined batch of them here, in one announcement after commit."""
    category = product.category
    Product.objects.bulk_create(  # setup only: the cache has not seen these yet
        Product(slug=f"bulk-{n}", name=f"Bulk {n}", category=category) for n in range(1200)
    )
    last = Product.objects.order_by("-pk").first()
    for cached in (product, last):
        warm(client, cached)
    category.name = "Renamed cakes"
    category.save()
    for cached in (product, last):
        assert ">Renamed cakes</a>" in product_page(client, cached)
    assert ">Renamed cakes</a>" in page(client, "/")


def test_admin_delete_selected_of_a_product_takes_it_off_every_page(client, admin_client, product):
    _cached(client, product)
    response = _delete_selected(admin_client, "product", product.pk)
    assert response.status_code == 302, response.text
    assert client.get(f"/products/{product.slug}/").status_code == 404
    assert listed_price(client, product) is None
    assert _home_count(client, product.category) == "0 products"


def test_admin_delete_selected_of_a_price_brings_back_the_one_before(client, admin_client, product):
    newer = PriceFactory(product=product, amount=Decimal("14.00"), valid_from=timezone.now())
    _cached(client, product)
    assert current_price(client, product) == listed_price(client, product) == "14.00 EUR"
    response = _delete_selected(admin_client, "price", newer.pk)
    assert response.status_code == 302, response.text
    assert current_price(client, product) == listed_price(client, product) == "12.50 EUR"


def _delete_selected(admin_client, model: str, pk: int):
    """The admin changelist's "Delete selected" action, confirmed."""
    return admin_client.post(
        f"/admin/catalog/{model}/",
        {"action": "delete_selected", "_selected_action": [pk], "post": "yes"},
    )
