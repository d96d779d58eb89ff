"""A catalog write whose LSN cannot be read after its commit (the primary's connection
broke) still succeeds, and its pages and listings refill from the primary."""

from decimal import Decimal

import pytest
from django.db import transaction

from catalog import services
from jobs.models import OutboxMessage
from tests.caching.helpers import primary_connection_dropped
from tests.catalog.pages import current_price, listed_price, page, product_page, warm

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.usefixtures("cache_server"),
]


def test_a_price_whose_lsn_cannot_be_read_after_commit_shows_on_page_and_listing(
    client, product, delayed_replica
):
    """The replica applies the write 3 s late: only the primary has the new price."""
    assert current_price(client, product) == listed_price(client, product) == "12.50 EUR"
    with transaction.atomic():
        transaction.on_commit(primary_connection_dropped)
        services.price_add(product=product, amount=Decimal("18.00"))
    assert current_price(client, product) == listed_price(client, product) == "18.00 EUR"
    assert OutboxMessage.objects.count() == 0  # nothing left to do later


def test_a_category_rename_whose_lsn_cannot_be_read_after_commit_changes_its_products_pages(
    client, product, delayed_replica
):
    warm(client, product)
    category = product.category
    with transaction.atomic():
        transaction.on_commit(primary_connection_dropped)
        category.name = "Tarts"
        category.save()  # its products are found here, before the commit
    assert ">Tarts</a>" in page(client, "/")
    assert ">Tarts</a>" in product_page(client, product)
    assert OutboxMessage.objects.count() == 0
