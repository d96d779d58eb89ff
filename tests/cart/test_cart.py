import pytest

from cart import session_cart
from cart.session_cart import MAX_QUANTITY
from catalog.models import Product
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


def test_a_get_only_asks_again_with_a_form_and_adds_nothing(client, product):
    # A prerendered product page without JavaScript sends its "Add to cart" as a GET.
    response = client.get(f"/cart/add/{product.slug}/")
    assert response.status_code == 200
    assert f'action="/cart/add/{product.slug}/"' in response.text
    assert "csrfmiddlewaretoken" in response.text  # a dynamic page: its own token
    assert _cart(client)["count"] == 0


def test_the_form_of_the_page_without_javascript_adds_to_the_cart(client, product):
    client.get(f"/cart/add/{product.slug}/")
    assert client.post(f"/cart/add/{product.slug}/", {"quantity": "1"}).status_code == 302
    assert _cart(client)["count"] == 1


def test_asking_for_an_unknown_product_is_a_404(client):
    assert client.get("/cart/add/no-such-cake/").status_code == 404


def test_unpublished_product_drops_out_of_the_cart_view(client, product):
    client.post(f"/cart/add/{product.slug}/")
    product.published = False
    product.save()
    assert product.name not in client.get("/cart/").text


def _json_post(client, url: str, data: dict[str, str] | None = None):
    return client.post(url, data or {}, HTTP_ACCEPT="application/json")


def test_every_cart_answer_in_json_has_the_same_shape(client, product):
    expected = {"count": 2, "items": [{"slug": product.slug, "quantity": 2}]}

    added = _json_post(client, f"/cart/add/{product.slug}/", {"quantity": "2"}).json()
    refused = _json_post(client, f"/cart/add/{product.slug}/", {"quantity": "0"})
    removed = _json_post(client, "/cart/remove/no-such-cake/").json()

    assert added == expected == _cart(client) == removed
    assert refused.status_code == 400
    assert refused.json() == expected | {"error": "Add at least one."}
    assert _json_post(client, f"/cart/remove/{product.slug}/").json() == {"count": 0, "items": []}


def _gone(product: Product, how: str) -> None:
    if how == "unpublished":
        Product.objects.filter(pk=product.pk).update(published=False)
    else:
        product.delete()


@pytest.mark.parametrize("gone", ["unpublished", "deleted"])
def test_the_cart_page_drops_a_product_no_longer_for_sale_and_the_count_follows(
    client, product, gone
):
    hidden = ProductFactory()
    client.post(f"/cart/add/{hidden.slug}/", {"quantity": "3"})
    client.post(f"/cart/add/{product.slug}/")
    _gone(hidden, gone)
    assert _cart(client)["count"] == 4  # the header reads the session only, until...

    page = client.get("/cart/").text  # ...the cart page shows what is for sale

    assert hidden.slug not in page and product.name in page
    assert _cart(client) == {"count": 1, "items": [{"slug": product.slug, "quantity": 1}]}
    assert hidden.slug not in client.session["cart"]  # pruned from the session itself


@pytest.mark.parametrize("gone", ["unpublished", "deleted"])
def test_adding_drops_a_product_no_longer_for_sale_and_frees_its_line(
    client, product, monkeypatch, gone
):
    monkeypatch.setattr(session_cart, "MAX_LINES", 2)
    hidden, other = ProductFactory(), ProductFactory()
    client.post(f"/cart/add/{hidden.slug}/", {"quantity": "3"})
    client.post(f"/cart/add/{product.slug}/")
    _gone(hidden, gone)

    added = _json_post(client, f"/cart/add/{other.slug}/")  # within 2 lines once pruned

    assert added.status_code == 200
    expected = {
        "count": 2,
        "items": [{"slug": product.slug, "quantity": 1}, {"slug": other.slug, "quantity": 1}],
    }
    assert added.json() == expected == _cart(client)


def test_removing_drops_a_product_no_longer_for_sale_too(client, product):
    hidden, other = ProductFactory(), ProductFactory()
    for slug in (hidden.slug, product.slug, other.slug):
        client.post(f"/cart/add/{slug}/")
    _gone(hidden, "unpublished")

    removed = _json_post(client, f"/cart/remove/{other.slug}/").json()

    assert removed == {"count": 1, "items": [{"slug": product.slug, "quantity": 1}]}
    assert removed == _cart(client)


def test_the_header_count_runs_no_sql(client, product, django_assert_num_queries):
    client.post(f"/cart/add/{product.slug}/", {"quantity": "2"})
    _gone(product, "unpublished")  # nothing to prune here: that is the cart page's job

    with django_assert_num_queries(0):
        response = client.get("/cart.json")

    assert response.json() == {"count": 2, "items": [{"slug": product.slug, "quantity": 2}]}


def test_checking_a_cart_costs_one_plain_query_without_prices(
    client, product, django_assert_num_queries
):
    client.post(f"/cart/add/{product.slug}/")

    with django_assert_num_queries(1) as captured:
        client.post(f"/cart/add/{product.slug}/", HTTP_ACCEPT="application/json")

    [query] = captured.captured_queries
    assert "catalog_price" not in query["sql"]


def test_a_full_cart_refuses_another_product_clearly(client, monkeypatch):
    monkeypatch.setattr(session_cart, "MAX_LINES", 1)
    first, second = ProductFactory(), ProductFactory()
    client.post(f"/cart/add/{first.slug}/")

    refused = _json_post(client, f"/cart/add/{second.slug}/")

    assert refused.status_code == 400
    assert refused.json()["error"] == "A cart holds at most 1 different products."
    assert _cart(client)["items"] == [{"slug": first.slug, "quantity": 1}]


def test_reading_a_cart_that_needs_no_pruning_does_not_rewrite_the_session(client, product):
    client.post(f"/cart/add/{product.slug}/")

    response = client.get("/cart.json")

    assert "sessionid" not in response.cookies  # no session save: nothing changed
