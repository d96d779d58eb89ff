"""The special orders' figures join the machinery's: a /healthz section and /metrics families,
registered by settings while the orders app is installed."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db(databases=["default", "replica"])


def test_healthz_counts_special_orders_by_state(client):
    orders = client.get("/healthz").json()["orders"]

    assert set(orders["by_status"]) == {"QUEUED", "BAKING", "READY", "FAILED"}


def test_metrics_report_special_orders(client):
    text = client.get("/metrics").content.decode()
    families = {f.name for f in text_string_to_metric_families(text)}

    assert {"shop_special_orders", "shop_special_order_oldest_queued_seconds"} <= families
