"""Prometheus figures of the job plumbing, read at each scrape (``METRICS_COLLECTORS``)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Metric
from prometheus_client.core import GaugeMetricFamily

from jobs.broker_figures import broker_queue_figures
from jobs.selectors import outbox_unsent_figures


def job_metrics() -> Iterable[Metric]:
    """The outbox backlog and, per broker queue, messages by state (ready, delayed, …)."""
    outbox = outbox_unsent_figures()
    unsent = GaugeMetricFamily("shop_outbox_unsent", "Jobs committed, not yet sent to the broker.")
    unsent.add_metric([], outbox["unsent"])
    oldest = GaugeMetricFamily(
        "shop_outbox_oldest_unsent_seconds", "Age of the oldest unsent job (0: none)."
    )
    oldest.add_metric([], outbox["oldest_unsent_seconds"] or 0)
    yield unsent
    yield oldest
    queues = GaugeMetricFamily(
        "shop_broker_messages",
        "Messages in the broker per queue and state.",
        labels=["queue", "state"],
    )
    for queue, counts in broker_queue_figures()["queues"].items():
        for state, n in counts.items():
            queues.add_metric([queue, state], n)
    yield queues
