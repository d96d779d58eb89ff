from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Product
from catalog.mongo.sync import documents_drift
from tests.factories import PriceFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _check() -> str:
    out = StringIO()
    call_command("catalog_sync_mongo", "--check", verbosity=0, stdout=out)
    return out.getvalue()


@pytest.fixture
def catalog(db):
    products = ProductFactory.create_batch(4)
    for product in products:
        PriceFactory(product=product)
    ProductFactory(published=False)
    return products


def test_check_reports_no_drift_after_a_sync(catalog, mongo_model):
    out = StringIO()
    call_command("catalog_sync_mongo", "--batch-size", "2", verbosity=0, stdout=out)

    assert "5 documents written" in out.getvalue()
    assert "no drift" in _check()


def test_check_finds_missing_extra_and_older_documents(catalog, mongo_model):
    call_command("catalog_sync_mongo", verbosity=0, stdout=StringIO())
    missing, older, unpublished = catalog[:3]
    mongo_model.delete_one({"_id": missing.pk})
    mongo_model.update_one({"_id": older.pk}, {"$set": {"prices.0.amount": "1.00"}})
    Product.objects.filter(pk=unpublished.pk).update(published=False)  # never projected
    mongo_model.insert_one({"_id": 999_999, "version": 1, "schema": 1, "slug": "ghost"})

    drift = documents_drift(batch_size=2)
    with pytest.raises(CommandError, match="drift: 4 documents"):
        _check()

    assert drift.missing == [missing.pk]
    assert drift.older == [older.pk]
    assert sorted(drift.extra) == [unpublished.pk, 999_999]
    call_command("catalog_sync_mongo", verbosity=0, stdout=StringIO())
    assert "no drift" in _check()
