"""After a price change: the writer's next page shows it, another browser within 2 s."""

import time
from decimal import Decimal

import pytest
from django.core import signing

from catalog.mongo.actors import catalog_mongo_project
from catalog.mongo.sync import documents_sync
from catalog.services import price_add
from replication.lsn import lsn_format, primary_current_lsn
from replication.read_your_writes import COOKIE, COOKIE_SALT
from tests.catalog.mongo.pages import cache_emptied, served
from tests.catalog.pages import current_price
from tests.workers import run_as_worker

# Real commits: the WAL moves, and the announcements run after commit as in production.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

PROJECTION_TARGET_SECONDS = 2.0


def _as_writer(client, lsn: int) -> None:
    """``client`` carries the read-your-writes cookie of a write at ``lsn``."""
    signer = signing.get_cookie_signer(salt=COOKIE + COOKIE_SALT)
    client.cookies[COOKIE] = signer.sign(lsn_format(lsn))


def test_writer_sees_own_price_change_at_once_and_others_once_projected(
    client, product, mongo_model
):
    from django.test import Client

    other = Client()
    documents_sync(batch_size=10)
    assert current_price(other, product) == "12.50 EUR"
    cache_emptied()

    price_add(product=product, amount=Decimal("14.00"))
    written_at = time.time()
    _as_writer(client, primary_current_lsn())

    # The document is still the old one: the writer's page comes from SQL.
    assert mongo_model.find_one({"_id": product.pk})["prices"][0]["amount"] == "12.50"
    html, model = served(client, f"/products/{product.slug}/")
    assert ("14.00 EUR" in html, model) == (True, "sql")

    run_as_worker(catalog_mongo_project, product.pk, primary_current_lsn(), written_at, retries=0)
    projected_in = time.time() - written_at

    cache_emptied()
    html, model = served(other, f"/products/{product.slug}/")
    assert ("14.00 EUR" in html, model) == (True, "mongo")
    html, model = served(client, f"/products/{product.slug}/")
    assert ("14.00 EUR" in html, model) == (True, "cache")
    assert projected_in < PROJECTION_TARGET_SECONDS
    print(f"projection (job run in process): {projected_in * 1000:.0f} ms")


def test_writer_reads_category_from_sql_until_its_product_is_projected(
    client, product, mongo_model
):
    documents_sync(batch_size=10)
    price_add(product=product, amount=Decimal("15.00"))
    lsn = primary_current_lsn()
    _as_writer(client, lsn)
    cache_emptied()

    html, model = served(client, f"/categories/{product.category.slug}/")
    assert ("15.00 EUR" in html, model) == (True, "sql")

    run_as_worker(catalog_mongo_project, product.pk, lsn, None, retries=0)
    cache_emptied()
    html, model = served(client, f"/categories/{product.category.slug}/")
    assert ("15.00 EUR" in html, model) == (True, "mongo")
