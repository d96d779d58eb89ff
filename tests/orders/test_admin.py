"""The special-order admin: staff read orders and act through actions, never edit them."""

import pytest

from jobs.models import OutboxMessage
from orders.models import SpecialOrder
from tests.factories import ProductFactory, SpecialOrderFactory

pytestmark = pytest.mark.django_db
ADMIN = "/admin/orders/specialorder/"


def test_staff_cannot_add_an_order_that_would_never_be_baked(admin_client, product):
    form = {
        "product": product.pk,
        "writing": "No job for me",
        "pickup_date": "2030-01-01",
        "customer_email": "a@example.com",
    }

    assert admin_client.get(f"{ADMIN}add/").status_code == 403
    assert admin_client.post(f"{ADMIN}add/", form).status_code == 403
    assert f"{ADMIN}add/" not in admin_client.get(ADMIN).text
    assert not SpecialOrder.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_what_the_customer_ordered_cannot_be_changed_in_the_admin(admin_client):
    order = SpecialOrderFactory(writing="Happy birthday Ana")
    other = ProductFactory()

    response = admin_client.post(
        f"{ADMIN}{order.pk}/change/",
        {
            "product": other.pk,
            "writing": "Something else",
            "pickup_date": "2030-01-01",
            "customer_email": "b@example.com",
        },
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.product_id, order.writing) != (other.pk, "Something else")
    assert order.writing == "Happy birthday Ana"
    assert order.customer_email == "customer@example.com"


def test_staff_read_why_an_order_failed(admin_client):
    order = SpecialOrderFactory(
        status=SpecialOrder.Status.FAILED, failure_reason="OSError: /srv/media/x.png broken"
    )

    page = admin_client.get(f"{ADMIN}{order.pk}/change/").text

    assert "OSError: /srv/media/x.png broken" in page
