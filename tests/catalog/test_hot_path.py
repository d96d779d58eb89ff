"""The product page's hot path: a warm hit is two Redis round trips and no SQL; slugs
that cannot name a product, or name none, cost nothing or almost nothing."""

from decimal import Decimal

import pytest
from django.db import connections
from redis.cluster import RedisCluster

from catalog import services
from catalog.models import Product
from core.redis_guard import redis_client
from tests.caching.helpers import cache_stat, redis_round_trips
from tests.catalog.pages import current_price, product_page
from tests.factories import ProductFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("cache_server"),
]


def _keys_stored() -> int:
    cache = redis_client("default")
    if isinstance(cache, RedisCluster):
        return cache.dbsize(target_nodes=RedisCluster.PRIMARIES)
    return cache.dbsize()


def test_warm_hit_is_two_redis_round_trips_and_no_sql(client, product, django_assert_num_queries):
    product_page(client, product)  # the refill
    product_page(client, product)  # the first hit stores the page's HTML beside it
    hits = cache_stat("product_page.hit")
    with (
        redis_round_trips() as sent,
        django_assert_num_queries(0),
        django_assert_num_queries(0, connection=connections["replica"]),
    ):
        assert current_price(client, product) == "12.50 EUR"
    # The slug's key names the product, then its hash gives the page: two keys, two slots.
    assert len(sent) == 2, sent
    assert cache_stat("product_page.hit") == hits + 1  # counted in-process


def test_a_page_dropped_by_a_write_is_counted_as_a_miss_not_a_hit(client, product):
    product_page(client, product)  # the refill: the slug's key, then the page
    services.price_add(product=product, amount=Decimal("14.00"))  # drops the page only
    hits, misses = cache_stat("product_page.hit"), cache_stat("product_page.miss")
    assert current_price(client, product) == "14.00 EUR"
    assert (cache_stat("product_page.hit"), cache_stat("product_page.miss")) == (hits, misses + 1)


def test_cached_html_is_the_page_as_rendered(client, product):
    rendered = product_page(client, product)  # the refill renders and stores it
    assert product_page(client, product) == rendered  # served from the cache


@pytest.mark.parametrize("slug", ["a" * 3000, "a" * 51])
def test_slug_longer_than_the_field_is_404_without_redis(client, slug):
    keys = _keys_stored()
    with redis_round_trips() as sent:
        assert client.get(f"/products/{slug}/").status_code == 404
        assert client.get(f"/categories/{slug}/").status_code == 404
    assert sent == []
    assert _keys_stored() == keys


def test_text_that_is_not_a_slug_is_404_without_redis(client):
    with redis_round_trips() as sent:
        assert client.get("/products/caf%C3%A9 au lait/").status_code == 404
    assert sent == []


def test_unknown_slug_is_answered_from_the_cache_until_a_product_is_written(
    client, django_assert_num_queries
):
    client.get("/")  # a listing sets the products table's generation, the answer's key
    assert client.get("/products/no-such-cake/").status_code == 404
    not_found_hits = cache_stat("product_page.not_found_hit")
    with django_assert_num_queries(0), redis_round_trips() as sent:
        assert client.get("/products/no-such-cake/").status_code == 404
    # The slug's key says "none while the products table's generation is G"; G is read.
    assert len(sent) == 2, sent
    assert cache_stat("product_page.not_found_hit") == not_found_hits + 1
    ProductFactory(slug="no-such-cake")  # a write to the products table ends the answer
    assert client.get("/products/no-such-cake/").status_code == 200


def test_unpublished_product_is_404_until_published_again(client, product):
    Product.objects.filter(pk=product.pk).update(published=False)  # no announcement
    product_page_status = client.get(f"/products/{product.slug}/").status_code
    assert product_page_status == 404
    product.published = True
    product.save()
    assert client.get(f"/products/{product.slug}/").status_code == 200
