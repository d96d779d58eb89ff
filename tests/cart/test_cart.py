import pytest

from cart.session_cart import MAX_QUANTITY
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _cart(client):
    return client.get("/cart.json").json()


def test_empty_cart_counts_zero_and_hands_out_a_csrf_cookie(client):
    response = client.get("/cart.json")
    assert response.json() == {"count": 0, "items": []}
    assert "csrftoken" in response.cookies


def test_added_products_are_counted_and_listed(client, product):
    other = ProductFactory()
    client.post(f"/cart/add/{product.slug}/")
    client.post(f"/cart/add/{product.slug}/", {"quantity": "2"})
    client.post(f"/cart/add/{other.slug}/")

    assert _cart(client) == {
        "count": 4,
        "items": [{"slug": product.slug, "quantity": 3}, {"slug": other.slug, "quantity": 1}],
    }
    page = client.get("/cart/")
    assert product.name in page.text
    assert "37.50 EUR" in page.text  # 3 × 12.50


def test_cart_lives_in_the_redis_session_store(client, product):
    from django.conf import settings
    from django.core.cache import caches

    client.post(f"/cart/add/{product.slug}/")
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    stored = caches["sessions"].get(f"django.contrib.sessions.cache{session_key}")
    assert stored["cart"] == {product.slug: 1}


def test_removed_product_leaves_the_cart(client, product):
    client.post(f"/cart/add/{product.slug}/")
    client.post(f"/cart/remove/{product.slug}/")
    assert _cart(client)["count"] == 0


@pytest.mark.parametrize(
    ("quantity", "status", "message"),
    [
        ("abc", 400, "Quantity must be a number."),
        ("0", 400, "Add at least one."),
        (str(MAX_QUANTITY + 1), 400, f"At most {MAX_QUANTITY}"),
    ],
)
def test_bad_quantities_are_refused_clearly(client, product, quantity, status, message):
    response = client.post(f"/cart/add/{product.slug}/", {"quantity": quantity})
    assert response.status_code == status
    assert message in response.text
    assert _cart(client)["count"] == 0


def test_unknown_product_is_a_404_with_a_message(client):
    response = client.post("/cart/add/no-such-cake/", HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json()["error"] == "We have no product with that name."


def test_adding_needs_a_post(client, product):
    assert client.get(f"/cart/add/{product.slug}/").status_code == 405


def test_unpublished_product_drops_out_of_the_cart_view(client, product):
    client.post(f"/cart/add/{product.slug}/")
    product.published = False
    product.save()
    assert product.name not in client.get("/cart/").text
