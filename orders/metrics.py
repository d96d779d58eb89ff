"""Prometheus figures of special orders, read at each scrape (``METRICS_COLLECTORS``)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Metric
from prometheus_client.core import GaugeMetricFamily

from orders.selectors import special_order_queue_figures


def order_metrics() -> Iterable[Metric]:
    """Special orders per state, and how long the oldest queued one has waited."""
    figures = special_order_queue_figures()
    by_status = GaugeMetricFamily(
        "shop_special_orders", "Special orders by state.", labels=["status"]
    )
    for status, n in figures["by_status"].items():
        by_status.add_metric([status], n)
    oldest = GaugeMetricFamily(
        "shop_special_order_oldest_queued_seconds", "Wait of the oldest QUEUED order (0: none)."
    )
    oldest.add_metric([], figures["oldest_queued_seconds"] or 0)
    return [by_status, oldest]
