"""This process's counters, as Prometheus metrics: one source for ``/metrics`` and ``/healthz``.

Why and how: ``docs/operating.md``."""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Metric
from prometheus_client.multiprocess import MultiProcessCollector

DB_READS = Counter(
    "shop_db_reads",
    "Reads of requests, by database alias and why they went there.",
    ["alias", "reason"],
)
CACHE_EVENTS = Counter(
    "shop_cache_events",
    "Cache events (hit, miss, rebuild, wait_timeout, unreadable) per cached object class.",
    ["entry", "event"],
)


def multiprocess_dir() -> str | None:
    """The directory gunicorn's workers (or a Dramatiq worker's processes) share metrics in."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def multiprocess_dir_empty() -> None:
    """Start a program with no files of its earlier processes (gunicorn's master, a worker's
    ``run_worker``): their live gauges would count, and their pids may be reused."""
    directory = multiprocess_dir()
    if directory is None:
        return
    path = Path(directory)
    if path.is_dir():
        for item in path.iterdir():
            if item.is_dir():
                shutil.rmtree(item)
            else:
                item.unlink()
    path.mkdir(parents=True, exist_ok=True)


def collected() -> Iterator[Metric]:
    """Every metric of this process, or of all processes sharing its multiprocess directory."""
    directory = multiprocess_dir()
    if directory is None:
        yield from REGISTRY.collect()
        return
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    yield from registry.collect()


def _counters() -> Iterable[Metric]:
    """Counters only: ``/healthz`` shows no more, and a clone's histograms cost far more to
    merge (one file per gunicorn worker and metric type)."""
    directory = multiprocess_dir()
    if directory is None:
        return [metric for metric in REGISTRY.collect() if metric.type == "counter"]
    return MultiProcessCollector.merge(glob.glob(os.path.join(directory, "counter_*.db")))


def _totals(counter: Counter) -> Iterator[tuple[dict[str, str], int]]:
    name = f"{counter._name}_total"
    for metric in _counters():
        for sample in metric.samples:
            if sample.name == name:
                yield sample.labels, int(sample.value)


def db_read_count(*, alias: str, reason: str) -> None:
    DB_READS.labels(alias=alias, reason=reason).inc()


def cache_count(name: str) -> None:
    """Count cache event ``name``, ``<entry>.<event>`` (``product_page.hit``)."""
    entry, _, event = name.rpartition(".")
    CACHE_EVENTS.labels(entry=entry, event=event).inc()


def cache_counts() -> dict[str, int]:
    """Every cache counter of this clone, as ``{"product_page.hit": n}``."""
    return {f"{labels['entry']}.{labels['event']}": n for labels, n in _totals(CACHE_EVENTS)}


def db_read_counts() -> dict[str, dict[str, int]]:
    """This clone's reads per alias and reason: ``{"replica": {"replica": n}}``."""
    counts: dict[str, dict[str, int]] = {}
    for labels, n in _totals(DB_READS):
        counts.setdefault(labels["alias"], {})[labels["reason"]] = n
    return counts
