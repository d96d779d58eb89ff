"""Prometheus metrics of a clone: requests by view and status, latency, and ``GET /metrics``.

Why and how: ``docs/observability.md``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    Metric,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core.errors import describe
from core.stats import collected
from replication.replica_health import replica_probe

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

REQUESTS = Counter(
    "shop_http_requests",
    "Requests answered, by view, method and status.",
    ["view", "method", "status"],
)
LATENCY = Histogram(
    "shop_http_request_duration_seconds",
    "Time from the first middleware to the response, by view.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def view_name(request: HttpRequest) -> str:
    """The URL pattern's name (bounded: one label value per view), never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match._func_path
    return "healthz" if request.path_info == "/healthz" else "<unmatched>"


class RequestMetricsMiddleware:
    """Count every response and time it, by view; listed early to time the others too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_name(request)
        method = request.method if request.method in METHODS else "OTHER"
        REQUESTS.labels(view=view, method=method, status=str(response.status_code)).inc()
        LATENCY.labels(view=view).observe(time.perf_counter() - started)
        return response


class _ScrapeTimeFigures(Collector):
    """The cluster facts of ``METRICS_COLLECTORS``, read at each scrape; one that fails is
    left out (and logged), the rest are still reported."""

    def collect(self) -> Iterator[Metric]:
        for path in [*settings.METRICS_COLLECTORS, f"{__name__}.replica_metrics"]:
            try:
                yield from list(import_string(path)())
            except Exception as error:  # noqa: BLE001  (a scrape never fails for one figure)
                logger.warning("metrics: %s failed: %s", path, describe(error))


class _ProcessCounters(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from collected()


def replica_metrics() -> Iterable[Metric]:
    """Each replica's replay lag in bytes as this clone's router sees it (-1: skipped)."""
    lag = GaugeMetricFamily(
        "shop_replica_lag_bytes",
        "WAL received but not yet replayed (-1: skipped).",
        labels=["alias"],
    )
    for alias in settings.DATABASE_REPLICAS:
        state = replica_probe(alias)
        lag.add_metric([alias], -1 if state is None else state.lag_bytes)
    return [lag]


@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format: this clone's counters, then the cluster's figures."""
    registry = CollectorRegistry()
    registry.register(_ProcessCounters())
    registry.register(_ScrapeTimeFigures())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
