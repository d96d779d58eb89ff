"""Mongo unreachable: catalog pages are still served, from PostgreSQL, with one warning."""

import logging

import pytest

from catalog.mongo.sync import documents_sync
from tests.catalog.mongo.conftest import start_mongo_server
from tests.catalog.mongo.pages import cache_emptied, served

pytestmark = pytest.mark.django_db


def test_mongo_stopped_pages_come_from_sql_with_one_warning(client, product, settings, caplog):
    server = start_mongo_server()
    try:
        settings.CATALOG_READ_MODEL = "mongo"
        settings.MONGO_URL = server.url
        documents_sync(batch_size=10)
        cache_emptied()
        assert served(client, f"/products/{product.slug}/")[1] == "mongo"
    finally:
        server.stop()
    cache_emptied()

    with caplog.at_level(logging.WARNING, logger="catalog.mongo"):
        for path in (f"/products/{product.slug}/", f"/categories/{product.category.slug}/"):
            html, model = served(client, path)
            assert (model, "12.50 EUR" in html) == ("sql", True)
            cache_emptied()

    warnings = [r for r in caplog.records if r.name.startswith("catalog.mongo")]
    assert len(warnings) == 1
    assert "MongoDB unavailable" in warnings[0].getMessage()
