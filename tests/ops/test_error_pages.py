"""Bad input gets a 4xx page a person can read, in the shop's look, never an empty body."""

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.testapp.urls")]
POST_ONLY = "/books/some-book/rename/"
SHOP = "Scaleshop bakery"


def test_a_wrong_method_gets_a_405_page_naming_the_right_one(client):
    response = client.get(POST_ONLY)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "does not take a GET request (it takes POST)" in response.text
    assert SHOP in response.text


def test_form_data_over_djangos_limit_gets_a_413_page(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = client.post(POST_ONLY, {"title": "x" * 2000})

    assert response.status_code == 413
    assert "That was more than we accept" in response.text


def test_too_many_fields_get_a_413_page(client):
    response = client.post(POST_ONLY, {f"f{n}": "1" for n in range(1001)})

    assert response.status_code == 413


def test_an_unknown_page_gets_the_shops_404_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "We have no such page" in response.text
    assert SHOP in response.text


def test_a_post_without_its_csrf_token_gets_a_page_saying_what_to_do():
    response = Client(enforce_csrf_checks=True).post(POST_ONLY)

    assert response.status_code == 403
    assert "Your form has expired" in response.text
    assert "reload the page" in response.text
