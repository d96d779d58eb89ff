"""Prometheus metrics of the running cluster: every clone and worker answers at the address
`status-json` lists under ``metrics``, requests and jobs move the counters, only this host
may ask, and flushing the cache Redis resets none of the counters ``/healthz`` shows."""

from __future__ import annotations

from typing import Any

import pytest
import redis
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.cluster import wait_for
from tests.deploy.helpers import new_session
from tests.deploy.test_cluster import _status_from
from tests.orders.conftest import place_order, placed_uuid, wait_until_ready

PROMETHEUS_TEXT = "text/plain; version="  # 0.0.4, or 1.0.0 from prometheus-client 0.22 on


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample at ``url``: (name, sorted labels) -> value."""
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].startswith(PROMETHEUS_TEXT)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and labels.items() <= dict(sample_labels).items()
    )


def test_status_json_lists_a_metrics_address_for_every_clone_and_worker(cluster):
    workers = [w["name"] for w in cluster["workers"] if w["name"].startswith("worker-")]
    assert set(cluster["metrics"]) == {c["name"] for c in cluster["clones"]} | set(workers)


def test_a_request_moves_its_clones_request_counter(cluster):
    clone = cluster["clones"][0]
    url = cluster["metrics"][clone["name"]]
    labels = {"view": "cart:json", "method": "GET", "status": "200"}
    before = scrape(url)
    assert "shop_replica_lag_bytes" in {name for name, _ in before}
    assert "shop_outbox_unsent" in {name for name, _ in before}

    answer = new_session().get(f"{clone['url']}/cart.json", timeout=10)
    assert answer.status_code == 200

    after = scrape(url)
    assert total(after, "shop_http_requests_total", **labels) == (
        total(before, "shop_http_requests_total", **labels) + 1
    )
    assert total(after, "shop_http_request_duration_seconds_count", view="cart:json") == (
        total(before, "shop_http_request_duration_seconds_count", view="cart:json") + 1
    )


def test_a_job_moves_the_workers_message_counter(cluster, lb_url, product_slug):
    workers = {name: url for name, url in cluster["metrics"].items() if name.startswith("worker-")}

    def baked() -> float:
        return sum(
            total(scrape(url), "dramatiq_messages_total", actor_name="bake_special_order")
            for url in workers.values()
        )

    before = baked()
    uuid = placed_uuid(place_order(lb_url, product_slug, "Count me"))
    wait_until_ready(lb_url, [uuid], timeout=30)
    wait_for(lambda: baked() >= before + 1, timeout=20, what="the job counted by its worker")


@pytest.mark.parametrize("path", ["/metrics", "/healthz"])
def test_metrics_and_health_answer_this_host_only_through_nginx(lb_url, path):
    # 127.0.0.2 is loopback too, but another address: stands in for a public client.
    assert _status_from("127.0.0.1", lb_url, path) == 200
    assert _status_from("127.0.0.2", lb_url, path) == 403


def _counters(clone_url: str) -> dict[str, Any]:
    body = new_session().get(f"{clone_url}/healthz", timeout=10).json()
    return {"cache_stats": body["cache_stats"], "db_reads": body["db_reads"]}


def test_flushing_the_cache_redis_resets_no_counter_healthz_shows(cluster, product_slug):
    clone = cluster["clones"][0]["url"]
    cache = redis.Redis.from_url(cluster["services"]["redis_cache"]["url"])
    cache.flushall()
    for _ in range(2):  # a miss (rebuilt from the database), then a hit
        page = new_session().get(f"{clone}/products/{product_slug}/", timeout=10)
        assert page.status_code == 200
    before = _counters(clone)
    assert before["cache_stats"]["product_page.hit"] >= 1
    assert before["cache_stats"]["product_page.rebuild"] >= 1
    assert before["db_reads"], "the rebuild's reads are counted"

    cache.flushall()

    after = _counters(clone)
    for group in ("cache_stats", "db_reads"):
        assert _not_less(after[group], before[group]), (group, before[group], after[group])


def _not_less(after: dict, before: dict) -> bool:
    """Every counter in ``before`` (nested by alias for db_reads) is at least as high after."""
    for key, value in before.items():
        if isinstance(value, dict):
            if not _not_less(after.get(key, {}), value):
                return False
        elif after.get(key, 0) < value:
            return False
    return True


def test_worker_metrics_ports_sit_above_the_clones_and_the_counts_are_bounded():
    from deploy.errors import ConfigurationError
    from deploy.topology import Ports, Topology

    topology = Topology(ports=Ports(clone_base=8201), clones=3, workers=2)
    assert topology.metrics_urls == {
        "clone-1": "http://127.0.0.1:8201/metrics",
        "clone-2": "http://127.0.0.1:8202/metrics",
        "clone-3": "http://127.0.0.1:8203/metrics",
        "worker-1": "http://127.0.0.1:8251/metrics",
        "worker-2": "http://127.0.0.1:8252/metrics",
    }
    # More than 50 clones would reach worker-1's metrics port.
    with pytest.raises(ConfigurationError, match="between 1 and 50"):
        topology.with_overrides(clones=51, release=None, replica_delay=None)
