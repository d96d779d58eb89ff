"""Category listings come in pages of ``CATEGORY_PAGE_SIZE``: a page's size and cost do
not grow with the catalog, and every page has one address."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.models import Price, Product
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

PAGE_SIZE = 10


@pytest.fixture(autouse=True)
def _small_pages(settings):
    settings.CATEGORY_PAGE_SIZE = PAGE_SIZE


@pytest.fixture
def category():
    """A category of 45 priced products (five pages of ten), made in two bulk inserts."""
    category = CategoryFactory()
    products = Product.objects.bulk_create(
        Product(category=category, name=f"Cake {n:03}", slug=f"{category.slug}-cake-{n:03}")
        for n in range(45)
    )
    Price.objects.bulk_create(Price(product=p, amount=Decimal("2.50")) for p in products)
    return category


def _names(html: str) -> list[str]:
    return re.findall(r'href="/products/[\w-]+/">([^<]+)</a>', html)


def _url(category, number: int = 1) -> str:
    base = f"/categories/{category.slug}/"
    return base if number == 1 else f"{base}page/{number}/"


def test_pages_list_every_product_once_in_name_order(client, category):
    names = []
    for number in range(1, 6):
        response = client.get(_url(category, number))
        assert response.status_code == 200
        names += _names(response.text)
    assert names == [f"Cake {n:03}" for n in range(45)]


def test_pages_link_to_their_neighbours(client, category):
    first, middle, last = (client.get(_url(category, n)).text for n in (1, 3, 5))
    assert 'rel="prev"' not in first and f'rel="next" href="{_url(category, 2)}"' in first
    assert f'rel="prev" href="{_url(category, 2)}"' in middle
    assert f'rel="next" href="{_url(category, 4)}"' in middle
    assert 'rel="next"' not in last and f'rel="prev" href="{_url(category, 4)}"' in last
    assert 'rel="prev" href="/categories/' in client.get(_url(category, 2)).text


@pytest.mark.parametrize("number", ["6", "0", "99999999999999999999"])
def test_page_past_the_end_is_404(client, category, number):
    assert client.get(f"/categories/{category.slug}/page/{number}/").status_code == 404


@pytest.mark.parametrize("query", ["abc", "-1", "0", "1.5", "", "٣", "9" * 50])
def test_malformed_page_number_is_404(client, category, query):
    assert client.get(_url(category), {"page": query}).status_code == 404


def test_old_query_string_links_and_page_one_redirect_to_the_one_address(client, category):
    assert client.get(_url(category), {"page": "3"})["Location"] == _url(category, 3)
    assert client.get(f"/categories/{category.slug}/page/1/")["Location"] == _url(category)


def test_empty_category_has_one_page(client):
    category = CategoryFactory()
    assert "No products in this category yet." in client.get(_url(category)).text
    assert client.get(_url(category, 2)).status_code == 404


def test_deep_page_runs_the_same_queries_as_the_first(client, category):
    def cold_queries(number: int) -> list[str]:
        with CaptureQueriesContext(connection) as context:
            assert client.get(_url(category, number)).status_code == 200
        # the same statements, whatever the offset
        return [re.sub(r"\b\d+\b", "N", query["sql"]) for query in context.captured_queries]

    cold_queries(1)  # table generations start here
    assert cold_queries(5) == cold_queries(2)


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])  # announced on commit
def test_price_write_shows_on_the_cached_page_that_lists_the_product(client, category):
    pages = [client.get(_url(category, n)).text for n in (1, 2)]
    assert all("2.50 EUR" in page for page in pages)
    product = Product.objects.get(slug=f"{category.slug}-cake-012")  # on page 2
    services.price_add(product=product, amount=Decimal("3.75"))
    assert "3.75 EUR" in client.get(_url(category, 2)).text
    assert "3.75 EUR" not in client.get(_url(category, 1)).text
