"""``/metrics`` in this process: Prometheus text with the request counters and the
cluster's figures read at scrape time; one failing figure does not fail the scrape."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [
    pytest.mark.django_db(databases=["default", "replica"]),
    pytest.mark.urls("tests.testapp.urls"),
]

CLUSTER_FIGURES = {
    "shop_outbox_unsent",
    "shop_outbox_oldest_unsent_seconds",
    "shop_broker_messages",
    "shop_replica_lag_bytes",
}


def _families(client) -> dict[str, object]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {f.name: f for f in text_string_to_metric_families(response.content.decode())}


def test_metrics_count_requests_by_view_and_report_the_clusters_figures(client):
    client.get("/books.json")
    families = _families(client)

    assert CLUSTER_FIGURES <= set(families)
    [sample] = [
        s
        for s in families["shop_http_requests"].samples
        if s.name == "shop_http_requests_total" and s.labels["view"] == "book-count"
    ]
    assert sample.value >= 1 and sample.labels["status"] == "200"


def test_a_figure_that_fails_is_left_out_and_the_others_still_answer(client, settings):
    settings.METRICS_COLLECTORS = ["tests.ops.test_metrics.failing_figures"]
    families = _families(client)

    assert "shop_replica_lag_bytes" in families
    assert "shop_outbox_unsent" not in families


def test_metrics_are_read_only(client):
    assert client.post("/metrics").status_code == 405


def failing_figures():
    raise ConnectionError("the broker is down")
