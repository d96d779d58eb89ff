"""Cached product pages (seed lesson 3) on the real Redis, primary and replica.

These tests commit (``transaction=True``): invalidation happens after commit, and
the no-stale-refill rule is about what the replica has replayed.
"""

import logging
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.http import Http404
from django.utils import timezone

from catalog import services
from catalog.cache.pages import product_page_cached
from catalog.models import Price
from catalog.selectors import ProductPage
from tests.caching.helpers import at_once, cache_stat, cache_unreachable
from tests.catalog.pages import current_price, product_page, warm
from tests.cluster import stopped
from tests.factories import PictureFactory, ProductFactory, ReviewFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("cache_server"),
]


def _rebuilds() -> int:
    return cache_stat("product_page.rebuild")


def test_warm_page_runs_no_sql(client, product, django_assert_num_queries):
    product_page(client, product)
    with (
        django_assert_num_queries(0),
        django_assert_num_queries(0, connection=connections["replica"]),
    ):
        assert current_price(client, product) == "12.50 EUR"


def test_added_price_shows_on_the_next_view(client, product):
    warm(client, product)
    services.price_add(product=product, amount=Decimal("14.00"))
    assert current_price(client, product) == "14.00 EUR"


def test_edited_text_shows_on_the_next_view(client, product):
    warm(client, product)
    text = product.texts.get()
    text.body = "Now with more butter."
    text.save()
    assert "Now with more butter." in product_page(client, product)


def test_removed_picture_disappears_on_the_next_view(client, product):
    extra = PictureFactory(product=product, image="catalog/extra.png")
    assert "/media/catalog/extra.png" in warm(client, product)
    extra.delete()
    assert "/media/catalog/extra.png" not in product_page(client, product)


def test_posted_review_shows_on_the_next_view(client, product):
    warm(client, product)
    services.review_post(product=product, author_name="Ana", rating=3, body="Crumbly.")
    page = product_page(client, product)
    assert "Crumbly." in page
    assert "3.0 / 5 from 1 review" in page


def test_unpublished_product_is_gone_on_the_next_view(client, product):
    warm(client, product)
    services.products_publish_set(product_ids=[product.pk], published=False)
    assert client.get(f"/products/{product.slug}/").status_code == 404


def test_bulk_price_update_shows_on_the_next_view(client, product):
    warm(client, product)
    services.prices_scale(product_ids=[product.pk], factor=Decimal("2"))
    assert current_price(client, product) == "25.00 EUR"


def test_admin_inline_edit_shows_on_the_next_view(client, admin_client, product):
    warm(client, product)
    price = product.prices.get()
    text = product.texts.get()
    picture = product.pictures.get()
    form = {
        "name": product.name,
        "slug": product.slug,
        "category": product.category_id,
        "published": "on",
        **_inline(
            "prices",
            [
                {
                    "id": price.pk,
                    "amount": "9.99",
                    "currency": "EUR",
                    "valid_from_0": price.valid_from.strftime("%Y-%m-%d"),
                    "valid_from_1": price.valid_from.strftime("%H:%M:%S"),
                }
            ],
        ),
        **_inline(
            "texts", [{"id": text.pk, "language": "en", "title": text.title, "body": text.body}]
        ),
        **_inline(
            "pictures",
            [
                {
                    "id": picture.pk,
                    "image": picture.image,
                    "alt": picture.alt,
                    "order": picture.order,
                }
            ],
        ),
        **_inline("reviews", []),
    }
    response = admin_client.post(f"/admin/catalog/product/{product.pk}/change/", form)
    assert response.status_code == 302, response.text
    assert current_price(client, product) == "9.99 EUR"


def _inline(prefix: str, rows: list[dict]) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(len(rows)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for number, row in enumerate(rows):
        data |= {f"{prefix}-{number}-{field}": value for field, value in row.items()}
    return data


def test_scheduled_price_takes_over_without_a_rebuild(client, product):
    soon = timezone.now() + timedelta(seconds=3)
    services.price_add(product=product, amount=Decimal("13.00"), valid_from=soon)
    product_page(client, product)
    assert current_price(client, product) == "12.50 EUR"
    rebuilds = _rebuilds()
    time.sleep(max(0.0, (soon - timezone.now()).total_seconds()) + 0.1)
    assert current_price(client, product) == "13.00 EUR"
    assert _rebuilds() == rebuilds


def test_delayed_replica_never_puts_the_old_price_back(
    client, admin_client, product, delayed_replica
):
    """The trap: after invalidation a reader misses, reads a lagging replica and caches
    the old page. Here the replica applies WAL 3 s late while the writer and another
    shopper keep reading; no one may ever see, or leave behind, the old price."""
    warm(client, product)
    services.price_add(product=product, amount=Decimal("15.00"))
    changed_at = timezone.now()
    seen = set()
    while timezone.now() - changed_at < timedelta(seconds=3):
        for shopper in (admin_client, client):
            seen.add(current_price(shopper, product))
    assert seen == {"15.00 EUR"}
    cached = product_page_cached(slug=product.slug)
    assert cached.current_price.amount == Decimal("15.00")


def test_fifty_concurrent_misses_rebuild_once(product, settings):
    settings.CACHE_REBUILD_WAIT_SECONDS = 30  # never reached, even on a busy 2-core machine
    ReviewFactory.create_batch(3, product=product)
    before, timeouts = _rebuilds(), cache_stat("product_page.wait_timeout")
    pages, errors = [], []

    def visit():
        try:
            pages.append(product_page_cached(slug=product.slug))
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    at_once(50, visit)

    assert errors == []
    assert len(pages) == 50 and len({page.review_summary.count for page in pages}) == 1
    assert _rebuilds() - before == 1
    assert cache_stat("product_page.wait_timeout") == timeouts  # no waiter assembled on its own


def test_cache_entries_are_kept_per_page_schema_version(client, product, monkeypatch):
    warm(client, product)
    rebuilds = _rebuilds()
    monkeypatch.setattr(ProductPage, "CACHE_VERSION", ProductPage.CACHE_VERSION + 1)
    product_page(client, product)  # a clone of the next release does not read the old shape
    assert _rebuilds() == rebuilds + 1
    monkeypatch.undo()
    product_page(client, product)  # and the old release still has its own entry
    assert _rebuilds() == rebuilds + 1


def test_part_moved_to_another_product_changes_both_pages(client, product):
    other = ProductFactory()
    review = ReviewFactory(product=product, body="Misfiled review.")
    assert "Misfiled review." in warm(client, product)
    warm(client, other)
    review.product = other
    review.save()
    assert "Misfiled review." not in product_page(client, product)
    assert "Misfiled review." in product_page(client, other)


def test_renamed_slug_does_not_serve_the_page_under_the_old_address(client, product):
    old_slug = product.slug
    warm(client, product)
    product.slug = "renamed-cake"
    product.save()
    assert client.get(f"/products/{old_slug}/").status_code == 404
    assert client.get("/products/renamed-cake/").status_code == 200


def test_concurrent_requests_for_a_missing_page_do_not_wait_out_the_rebuild(settings):
    """Each is told "not found" by the rebuild it waited for (kept as long as it may
    wait), or, starting after it, finds nothing itself: none waits for its wait to end."""
    settings.CACHE_REBUILD_WAIT_SECONDS = 30
    outcomes, elapsed = [], []

    def visit():
        started = time.monotonic()
        try:
            product_page_cached(slug="no-such-cake")
        except Http404:
            outcomes.append(404)
        elapsed.append(time.monotonic() - started)

    at_once(10, visit)

    assert outcomes == [404] * 10
    assert max(elapsed) < settings.CACHE_REBUILD_WAIT_SECONDS / 2


def test_unreachable_redis_serves_pages_from_the_database_and_warns_once(
    client, product, settings, caplog
):
    cache_unreachable(settings)
    with caplog.at_level(logging.WARNING, logger="core.redis_guard"):
        for path in ["/", f"/categories/{product.category.slug}/", f"/products/{product.slug}/"]:
            for _ in range(3):
                assert client.get(path).status_code == 200
    warnings = [r for r in caplog.records if "Redis cache unavailable" in r.getMessage()]
    assert len(warnings) == 1


def test_price_written_in_a_rolled_back_transaction_invalidates_nothing(client, product):
    warm(client, product)
    rebuilds = _rebuilds()
    with pytest.raises(RuntimeError), transaction.atomic():
        Price.objects.create(product=product, amount=Decimal("1.00"))
        raise RuntimeError("changed my mind")
    assert "12.50 EUR" in product_page(client, product)
    assert _rebuilds() == rebuilds


def test_stopped_redis_cache_keeps_catalog_pages_up(lb_url, product_slug):
    from tests.deploy.helpers import new_session

    with stopped("redis-cache"):
        for _ in range(6):
            for path in ["/", f"/products/{product_slug}/"]:
                assert new_session().get(f"{lb_url}{path}", timeout=10).status_code == 200


def test_other_products_stay_cached_when_one_changes(client, product):
    other = ProductFactory()
    warm(client, other)
    warm(client, product)
    rebuilds = _rebuilds()
    services.price_add(product=product, amount=Decimal("16.00"))
    product_page(client, other)
    assert _rebuilds() == rebuilds
