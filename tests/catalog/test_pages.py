import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from caching.watermark import write_watermark_get
from catalog.selectors import category_page_get
from tests.factories import (
    CategoryFactory,
    PictureFactory,
    PriceFactory,
    ProductFactory,
    ReviewFactory,
)

pytestmark = pytest.mark.django_db


def test_home_lists_categories_with_published_product_counts(client):
    cakes = CategoryFactory(name="Cakes", slug="cakes")
    ProductFactory.create_batch(2, category=cakes)
    ProductFactory(category=cakes, published=False)

    response = client.get("/")

    assert response.status_code == 200
    assert "Cakes" in response.text
    assert "2 products" in response.text


def test_category_page_shows_current_price_not_future_one(client, product):
    PriceFactory(
        product=product, amount=Decimal("99.00"), valid_from=timezone.now() + timedelta(days=3)
    )

    response = client.get(f"/categories/{product.category.slug}/")

    assert response.status_code == 200
    assert "12.50 EUR" in response.text
    assert "99.00" not in response.text


def test_price_starting_while_a_listing_is_read_is_current_or_next(product, monkeypatch):
    """A listing asks "which price is current" and "when does the next one start"; a
    price starting between the two questions must be the answer to one of them, else
    the cached listing would never switch to it."""
    start = timezone.now()
    PriceFactory(product=product, amount=Decimal("20.00"), valid_from=start + timedelta(seconds=1))
    seconds = itertools.count(step=2)  # a clock that moves on 2 s at each reading
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(seconds=next(seconds)))

    page = category_page_get(slug=product.category.slug)

    monkeypatch.undo()
    assert [row.price_amount for row in page.products] == [Decimal("12.50")]
    assert page.next_price_change == start + timedelta(seconds=1)


def test_product_page_shows_prices_texts_pictures_and_reviews(client, product):
    ReviewFactory(product=product, rating=4, body="Crunchy crust.")
    ReviewFactory(product=product, rating=2, body="Too sweet.")

    response = client.get(f"/products/{product.slug}/")

    assert response.status_code == 200
    page = response.text
    assert "12.50 EUR" in page
    assert "Baked this morning." in page
    assert "/media/catalog/cakes.png" in page
    assert "3.0 / 5 from 2 reviews" in page
    assert "Crunchy crust." in page


@pytest.mark.parametrize("url", ["/products/no-such-cake/", "/categories/no-such-category/"])
def test_unknown_pages_are_404(client, url):
    assert client.get(url).status_code == 404


def test_unpublished_product_is_404(client):
    hidden = ProductFactory(published=False)
    assert client.get(f"/products/{hidden.slug}/").status_code == 404


def _grow(product, *, extra: int) -> None:
    PriceFactory.create_batch(extra, product=product)
    PictureFactory.create_batch(extra, product=product)
    ReviewFactory.create_batch(extra, product=product)


@pytest.mark.parametrize("extra", [1, 25])
def test_product_page_query_count_does_not_grow_with_related_rows(
    client, product, django_assert_num_queries, extra
):
    _grow(product, extra=extra)
    write_watermark_get()  # known, as on a running shop (else one more tiny query)
    # cold: product id, product/category, prices, texts, pictures, review summary, latest
    # reviews; warm: the cached object, no SQL at all
    with django_assert_num_queries(7):
        assert client.get(f"/products/{product.slug}/").status_code == 200
    with django_assert_num_queries(0):
        assert client.get(f"/products/{product.slug}/").status_code == 200


@pytest.mark.parametrize("products", [1, 30])
def test_category_page_query_count_does_not_grow_with_products(
    client, django_assert_num_queries, products
):
    category = CategoryFactory()
    for product in ProductFactory.create_batch(products, category=category):
        PriceFactory(product=product)
    # cold: table generations start at the primary's LSN, then category, product count,
    # one page of products with their current price, next scheduled price; warm: the
    # cached query, no SQL
    with django_assert_num_queries(5):
        assert client.get(f"/categories/{category.slug}/").status_code == 200
    with django_assert_num_queries(0):
        assert client.get(f"/categories/{category.slug}/").status_code == 200


def test_home_query_count_does_not_grow_with_categories(client, django_assert_num_queries):
    for category in CategoryFactory.create_batch(10):
        ProductFactory(category=category)
    with django_assert_num_queries(2):
        assert client.get("/").status_code == 200
    with django_assert_num_queries(0):
        assert client.get("/").status_code == 200
