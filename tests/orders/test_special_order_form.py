from datetime import timedelta

import pytest
from django.utils import timezone

from orders.forms import SpecialOrderForm
from orders.models import SpecialOrder
from tests.factories import ProductFactory, SpecialOrderFactory
from tests.orders.conftest import NEW, order_form

pytestmark = pytest.mark.django_db


def _valid_form(product, changes=None):
    return order_form(product.slug, "Happy birthday Ana") | (changes or {})


def test_form_page_is_prefilled_from_the_product_link(client, product):
    response = client.get(f"{NEW}?product={product.slug}")
    assert response.status_code == 200
    assert f'value="{product.slug}"' in response.text
    assert "queued" in response.text


def test_valid_order_is_saved_queued_and_redirects_to_its_status_page(client, product):
    response = client.post(NEW, _valid_form(product))

    order = SpecialOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.uuid}/"
    assert order.status == SpecialOrder.Status.QUEUED
    assert order.product == product
    assert order.writing == "Happy birthday Ana"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"writing": "x" * 51}, "at most 50 characters"),
        ({"writing": "   "}, "This field is required"),
        ({"writing": "tab\there"}, "printable characters"),
        ({"pickup_date": "2000-01-01"}, "in the past"),
        ({"pickup_date": "31/12/2030"}, "Enter a valid date"),
        ({"pickup_date": "9999-99-99"}, "Enter a valid date"),
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"email": f"{'a' * 243}@example.com"}, "at most 254 characters"),  # the column's size
        ({"product": "no-such-cake"}, "no product with that name"),
        ({"product": "<script>"}, "no product with that name"),
    ],
)
def test_bad_input_returns_the_form_with_errors_and_saves_nothing(
    client, product, changes, message
):
    response = client.post(NEW, _valid_form(product, changes))

    assert response.status_code == 400
    assert message in response.text
    assert not SpecialOrder.objects.exists()


def test_unpublished_product_cannot_be_ordered(client):
    hidden = ProductFactory(published=False)
    response = client.post(NEW, _valid_form(hidden))
    assert response.status_code == 400
    assert not SpecialOrder.objects.exists()


def test_a_product_unpublished_after_the_form_found_it_gives_the_form_back(
    client, product, monkeypatch
):
    def then_unpublished_on_the_primary(form):
        found = form.cleaned_data["product"]  # the form found it published
        found.published = False
        found.save()  # the replica the form read had not replayed this yet
        return found

    monkeypatch.setattr(
        SpecialOrderForm, "clean_product", then_unpublished_on_the_primary, raising=False
    )

    response = client.post(NEW, _valid_form(product))

    assert response.status_code == 400
    assert "can no longer be ordered" in response.text
    assert not SpecialOrder.objects.exists()


def test_pickup_more_than_90_days_ahead_is_refused(client, product):
    far = (timezone.localdate() + timedelta(days=91)).isoformat()
    response = client.post(NEW, _valid_form(product, {"pickup_date": far}))
    assert response.status_code == 400
    assert "90 days ahead" in response.text


def test_empty_post_is_a_400_not_a_500(client):
    assert client.post(NEW, {}).status_code == 400


def test_status_page_and_json_show_the_order_status(client):
    order = SpecialOrderFactory()

    page = client.get(f"/orders/{order.uuid}/")
    data = client.get(f"/orders/{order.uuid}/status.json").json()

    assert page.status_code == 200
    assert "Queued" in page.text
    assert "the next free baker takes it" in page.text  # without waiting for the script
    assert data["status"] == "QUEUED"
    assert data["uuid"] == str(order.uuid)


def test_a_failed_order_tells_the_shopper_kindly_and_never_why_it_failed(client):
    reason = "OperationalError: could not connect to db-primary.internal:5432 (/srv/shop)"
    order = SpecialOrderFactory(status=SpecialOrder.Status.FAILED, failure_reason=reason)

    page = client.get(f"/orders/{order.uuid}/").text
    data = client.get(f"/orders/{order.uuid}/status.json").json()

    kind = "Sorry, we could not bake this order. Our staff have been told"
    assert kind in page and data["explanation"].startswith(kind)
    for leak in ("OperationalError", "db-primary", "/srv/shop"):
        assert leak not in page
        assert leak not in str(data)


@pytest.mark.parametrize(
    "url",
    [
        "/orders/00000000-0000-0000-0000-000000000000/",
        "/orders/00000000-0000-0000-0000-000000000000/status.json",
        "/orders/not-a-uuid/",
    ],
)
def test_unknown_orders_are_404(client, url):
    assert client.get(url).status_code == 404
