from decimal import Decimal

import pytest
from django.db import transaction

from catalog.mongo.documents import page_fields
from catalog.mongo.projection import document_write, product_document_project
from catalog.selectors import product_page_get
from catalog.services import price_add, products_publish_set
from replication.lsn import primary_current_lsn
from tests.catalog.mongo.pages import cache_emptied
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _stored_price(collection, product) -> str:
    return collection.find_one({"_id": product.pk})["prices"][0]["amount"]


def test_two_projections_applied_out_of_order_leave_the_newer_one(product, mongo_model):
    old = page_fields(product_page_get(slug=product.slug))
    price_add(product=product, amount=Decimal("20.00"))
    new = page_fields(product_page_get(slug=product.slug))

    assert document_write(product_id=product.pk, fields=new, version=200)
    assert not document_write(product_id=product.pk, fields=old, version=100)

    assert _stored_price(mongo_model, product) == "20.00"
    assert mongo_model.find_one({"_id": product.pk})["version"] == 200


def test_an_older_projection_cannot_bring_back_an_unpublished_product(product, mongo_model):
    page = page_fields(product_page_get(slug=product.slug))
    product_document_project(product_id=product.pk, lsn=None)
    products_publish_set(product_ids=[product.pk], published=False)
    product_document_project(product_id=product.pk, lsn=None)

    document_write(product_id=product.pk, fields=page, version=1)  # a late, older job

    assert "slug" not in mongo_model.find_one({"_id": product.pk})


def test_projection_reads_the_write_and_a_deleted_product_loses_its_page(
    client, product, mongo_model
):
    product_document_project(product_id=product.pk, lsn=None)
    price_add(product=product, amount=Decimal("31.00"))
    product_document_project(product_id=product.pk, lsn=primary_current_lsn())
    assert _stored_price(mongo_model, product) == "31.00"

    product_id = product.pk
    with transaction.atomic():
        product.delete()
    product_document_project(product_id=product_id, lsn=primary_current_lsn())

    assert "slug" not in mongo_model.find_one({"_id": product_id})
    cache_emptied()
    assert client.get(f"/products/{product.slug}/").status_code == 404


def test_a_slug_taken_over_from_another_product_is_projected(product, mongo_model):
    product_document_project(product_id=product.pk, lsn=None)
    old_slug = product.slug
    product.slug = "renamed"
    product.save()
    heir = ProductFactory(slug=old_slug, category=product.category)

    # The heir's job runs before the renamed product's.
    assert product_document_project(product_id=heir.pk, lsn=None)
    assert mongo_model.find_one({"slug": old_slug})["_id"] == heir.pk
    product_document_project(product_id=product.pk, lsn=None)
    assert mongo_model.find_one({"slug": "renamed"})["_id"] == product.pk
