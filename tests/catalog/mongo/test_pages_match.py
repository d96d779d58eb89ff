import pytest
from django.core.management import call_command
from django.test import Client

from catalog.models import Category, Product
from catalog.mongo.sync import documents_sync
from catalog.seeding import catalog_seed
from tests.catalog.mongo.pages import CSRF, cache_emptied

pytestmark = pytest.mark.django_db


def _paths() -> list[str]:
    return [f"/categories/{c.slug}/" for c in Category.objects.all()] + [
        f"/products/{p.slug}/" for p in Product.objects.all()
    ]


def test_mongo_pages_render_the_same_content_as_sql_over_a_seeded_catalog(settings, mongo_model):
    catalog_seed(products=12, reviews_per_product=3)
    Product.objects.filter(pk=Product.objects.order_by("pk")[0].pk).update(published=False)
    settings.CATALOG_READ_MODEL = "sql"
    sql_pages = {path: _page(path) for path in _paths()}
    settings.CATALOG_READ_MODEL = "mongo"
    documents_sync(batch_size=5)
    cache_emptied()

    for path, (sql_html, sql_model) in sql_pages.items():
        mongo_html, mongo_model_name = _page(path)
        assert sql_model == "sql"
        # An unpublished product has no document: its 404 comes from SQL.
        assert mongo_model_name == ("sql" if sql_html == "404" else "mongo"), path
        assert mongo_html == sql_html, path


def _page(path: str) -> tuple[str, str]:
    """A fresh browser's page with the cache emptied first; a 404 as such."""
    cache_emptied()
    response = Client().get(path)
    if response.status_code == 404:
        return "404", "sql"  # Http404 responses carry no X-Read-Model
    return CSRF.sub("", response.text), response["X-Read-Model"]


def test_product_page_on_mongo_runs_no_sql_with_the_cache_empty(
    client, product, mongo_model, django_assert_num_queries
):
    documents_sync(batch_size=10)
    cache_emptied()

    with django_assert_num_queries(0):
        response = client.get(f"/products/{product.slug}/")

    assert response.status_code == 200
    assert response["X-Read-Model"] == "mongo"
    assert "12.50 EUR" in response.text


def test_second_view_of_a_product_page_is_served_by_the_cache(client, product, mongo_model):
    documents_sync(batch_size=10)
    cache_emptied()

    first = client.get(f"/products/{product.slug}/")
    second = client.get(f"/products/{product.slug}/")

    assert (first["X-Read-Model"], second["X-Read-Model"]) == ("mongo", "cache")


def test_sql_model_says_so_in_the_header(client, product):
    assert client.get(f"/products/{product.slug}/")["X-Read-Model"] == "sql"
    assert client.get(f"/categories/{product.category.slug}/")["X-Read-Model"] == "sql"
    assert client.get("/")["X-Read-Model"] == "sql"


def test_sync_refuses_to_run_without_the_mongo_model():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not mongo"):
        call_command("catalog_sync_mongo")
