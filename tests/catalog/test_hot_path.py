"""The product page's hot path: a warm hit is one Redis round trip and no SQL; slugs
that cannot name a product, or name none, cost nothing or almost nothing."""

import pytest
from django.db import connections

from catalog.models import Product
from config.redis_guard import redis_client
from tests.catalog.pages import cache_stat, current_price, product_page, redis_round_trips
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def test_warm_hit_is_one_redis_round_trip_and_no_sql(client, product, django_assert_num_queries):
    product_page(client, product)  # the refill
    product_page(client, product)  # the first hit stores the page's HTML beside it
    hits = cache_stat("product_page.hit")
    with (
        redis_round_trips() as sent,
        django_assert_num_queries(0),
        django_assert_num_queries(0, connection=connections["replica"]),
    ):
        assert current_price(client, product) == "12.50 EUR"
    assert len(sent) == 1, sent
    assert cache_stat("product_page.hit") == hits + 1  # counted in-process


def test_cached_html_is_the_page_as_rendered(client, product):
    rendered = product_page(client, product)  # the refill renders and stores it
    assert product_page(client, product) == rendered  # served from the cache


@pytest.mark.parametrize("slug", ["a" * 3000, "a" * 51])
def test_slug_longer_than_the_field_is_404_without_redis(client, slug):
    cache = redis_client("default")
    keys = cache.dbsize()
    with redis_round_trips() as sent:
        assert client.get(f"/products/{slug}/").status_code == 404
        assert client.get(f"/categories/{slug}/").status_code == 404
    assert sent == []
    assert cache.dbsize() == keys


def test_text_that_is_not_a_slug_is_404_without_redis(client):
    with redis_round_trips() as sent:
        assert client.get("/products/caf%C3%A9 au lait/").status_code == 404
    assert sent == []


def test_unknown_slug_is_answered_from_the_cache_until_a_product_is_written(
    client, django_assert_num_queries
):
    client.get("/")  # a listing sets the products table's generation, the answer's key
    assert client.get("/products/no-such-cake/").status_code == 404
    with django_assert_num_queries(0), redis_round_trips() as sent:
        assert client.get("/products/no-such-cake/").status_code == 404
    assert len(sent) == 1
    ProductFactory(slug="no-such-cake")  # a write to the products table ends the answer
    assert client.get("/products/no-such-cake/").status_code == 200


def test_unpublished_product_is_404_until_published_again(client, product):
    Product.objects.filter(pk=product.pk).update(published=False)  # no announcement
    product_page_status = client.get(f"/products/{product.slug}/").status_code
    assert product_page_status == 404
    product.published = True
    product.save()
    assert client.get(f"/products/{product.slug}/").status_code == 200
