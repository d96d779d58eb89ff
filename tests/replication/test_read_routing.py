"""The primary/replica router against the real primary and streaming replica.

Rows must really reach the replica, so these tests commit (``transaction=True``).
Which server served a read is proved on the connection itself (``pg_is_in_recovery``,
``inet_server_port``), not by asking the router. Prices are read on the cart page,
which reads through the router on every request (product pages are cached objects,
tested in tests/catalog/test_page_cache.py).
"""

from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connections, router, transaction
from django.test.utils import CaptureQueriesContext

from catalog.models import Price, Product
from replication.lsn import primary_current_lsn
from replication.routing import routing_scope
from tests.cluster import wait_for
from tests.factories import ProductFactory, admin_price_form
from tests.replication.replicas import replica_has, replicated_product

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def _server(alias: str) -> tuple[bool, int]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), inet_server_port()")
        return cursor.fetchone()


def _price_in_cart(client, product) -> tuple[str, str]:
    response = client.get("/cart/")
    assert response.status_code == 200
    assert product.name in response.text
    return response.text, response["X-DB-Read"]


def _cart_with(client, product):
    assert client.post(f"/cart/add/{product.slug}/").status_code == 302
    return client


def _served_by(queries: CaptureQueriesContext) -> bool:
    return len(queries.captured_queries) > 0


def test_read_without_prior_write_is_served_by_the_replica(client):
    product = replicated_product()

    _cart_with(client, product)

    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        response = client.get("/cart/")

    assert response.status_code == 200
    assert _served_by(on_replica)
    assert not _served_by(on_primary)
    in_recovery, port = _server("replica")
    assert in_recovery is True
    assert port == connections["replica"].settings_dict["PORT"]


def test_the_writer_reads_its_own_write_at_once_others_may_lag(
    client, admin_client, delayed_replica
):
    product = replicated_product(amount=Decimal("10.00"))
    writer, other = _cart_with(admin_client, product), _cart_with(client, product)

    response = writer.post("/admin/catalog/price/add/", admin_price_form(product, "11.50"))
    assert response.status_code == 302, response.text

    writer_page, writer_read = _price_in_cart(writer, product)
    other_page, other_read = _price_in_cart(other, product)

    assert "11.50 EUR" in writer_page
    assert writer_read == "default (sticky)"
    # The replica applies WAL 3 s late, so another shopper still sees the old price.
    assert "10.00 EUR" in other_page
    assert other_read == "replica (replica)"

    write_lsn = primary_current_lsn()
    wait_for(lambda: replica_has(write_lsn), timeout=15, what="the delayed replica")
    writer_page, writer_read = _price_in_cart(writer, product)
    assert "11.50 EUR" in writer_page
    assert writer_read == "replica (replica)"


def test_every_query_inside_atomic_goes_to_the_primary():
    with (
        routing_scope(),
        CaptureQueriesContext(connections["replica"]) as on_replica,
        transaction.atomic(),
    ):
        product = ProductFactory()
        assert Product.objects.get(pk=product.pk) == product
        assert list(Price.objects.filter(product=product)) == []
    assert not _served_by(on_replica)


def test_reads_outside_a_request_or_job_use_the_primary():
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        Product.objects.count()
    assert not _served_by(on_replica)


def test_admin_reads_use_the_primary(admin_client):
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        response = admin_client.get("/admin/catalog/product/")
    assert response.status_code == 200
    assert response["X-DB-Read"] == "default (pinned)"
    assert not _served_by(on_replica)


def test_migrations_run_on_the_primary_only(settings):
    """Replicas get the schema by replication: the router lets no migration run there.

    Asked of the router, since running ``migrate`` on a replica proves nothing: it finds
    every migration already recorded (replicated) and a write would fail there anyway.
    """
    models = apps.get_models(include_auto_created=True)
    assert settings.DATABASE_REPLICAS
    for alias in settings.DATABASE_REPLICAS:
        assert not any(router.allow_migrate_model(alias, model) for model in models)
        assert router.allow_migrate(alias, "catalog") is False  # RunSQL, RunPython
    assert all(router.allow_migrate_model("default", model) for model in models)
    assert router.allow_migrate("default", "catalog") is True
