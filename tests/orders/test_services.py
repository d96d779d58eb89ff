"""Writes of special orders, called as the views and the admin call them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product
from jobs.models import OutboxMessage
from orders import services
from orders.errors import ProductUnavailableError
from orders.models import SpecialOrder
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _place(product: Product) -> SpecialOrder:
    return services.special_order_place(
        product=product,
        writing="Happy birthday",
        pickup_date=timezone.localdate() + timedelta(days=3),
        customer_email="ana@example.com",
    )


def test_an_order_holds_the_product_and_its_job():
    product = ProductFactory()

    order = _place(product)

    assert (order.product, order.status) == (product, SpecialOrder.Status.QUEUED)
    assert OutboxMessage.objects.get().args == [order.pk]


def test_only_an_order_placed_for_the_bench_asks_its_job_for_a_trivial_bake():
    product = ProductFactory()
    _place(product)
    services.special_order_place(
        product=product,
        writing="Bench",
        pickup_date=timezone.localdate() + timedelta(days=3),
        customer_email="bench@localhost",
        trivial_bake=True,
    )

    assert [job.kwargs for job in OutboxMessage.objects.order_by("pk")] == [
        {},
        {"trivial_bake": True},
    ]


def test_a_product_unpublished_on_the_primary_is_refused_with_a_clear_error():
    product = ProductFactory(published=False)  # a replica may still show it published

    with pytest.raises(ProductUnavailableError, match="can no longer be ordered"):
        _place(product)

    assert not SpecialOrder.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_product_deleted_on_the_primary_is_refused_with_a_clear_error():
    product = ProductFactory()
    Product.objects.filter(pk=product.pk).delete()  # the replica's copy is what we hold

    with pytest.raises(ProductUnavailableError):
        _place(product)

    assert not SpecialOrder.objects.exists()
