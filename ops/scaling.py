"""The admin's Scaling page: the cluster at a glance, from every clone's own ``/healthz``.

Why and how: ``docs/observability.md``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


@dataclass
class CloneAnswer:
    """One clone's ``/healthz``, or why there is none."""

    url: str
    status: int | None = None
    body: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def healthy(self) -> bool:
        return self.status == 200


def clone_healthz(url: str) -> CloneAnswer:
    """``GET url/healthz``; a 503 still carries its body (what is wrong)."""
    timeout = settings.SCALING_HEALTHZ_TIMEOUT_SECONDS
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=timeout) as response:  # noqa: S310
            return CloneAnswer(url, response.status, json.load(response))
    except urllib.error.HTTPError as error:
        try:
            body = json.load(error)
        except ValueError:
            body = {}
        return CloneAnswer(url, error.code, body, f"HTTP {error.code}")
    except (OSError, ValueError) as error:
        cause = getattr(error, "reason", error)  # urllib's URLError wraps the socket's error
        return CloneAnswer(
            url, error=type(cause if isinstance(cause, Exception) else error).__name__
        )


def _added(counts: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for one in counts:
        for name, n in one.items():
            total[name] = total.get(name, 0) + n
    return total


def _cache_rates(stats: dict[str, int]) -> list[dict[str, Any]]:
    """Per cached object class: hits, misses, rebuilds and the hit rate."""
    entries = sorted({name.rpartition(".")[0] for name in stats})
    rows = []
    for entry in entries:
        hits, misses = stats.get(f"{entry}.hit", 0), stats.get(f"{entry}.miss", 0)
        rows.append(
            {
                "entry": entry,
                "hits": hits,
                "misses": misses,
                "rebuilds": stats.get(f"{entry}.rebuild", 0),
                "hit_rate": None if hits + misses == 0 else round(100 * hits / (hits + misses), 1),
            }
        )
    return rows


def cluster_overview() -> dict[str, Any]:
    """Clones, replicas, cache, queues, outbox and prerendering, as the clones report them."""
    urls = settings.SHOP_CLONE_URLS
    with ThreadPoolExecutor(max_workers=max(1, min(len(urls), 16))) as pool:
        answers = list(pool.map(clone_healthz, urls))
    bodies = [a.body for a in answers if a.body]
    fingerprints = {b.get("settings_fingerprint") for b in bodies}
    releases = {b.get("release") for b in bodies}
    routing: dict[str, list[dict[str, int]]] = {}
    for body in bodies:
        for alias, reasons in (body.get("db_reads") or {}).items():
            routing.setdefault(alias, []).append(reasons)
    replicas = sorted(
        {name for b in bodies for name in (b.get("checks") or {}) if name.startswith("replica")}
    )
    cache = _added([b.get("cache_stats") or {} for b in bodies])
    hits = sum(n for name, n in cache.items() if name.endswith(".hit"))
    misses = sum(n for name, n in cache.items() if name.endswith(".miss"))
    shared = next((b for b in answers if b.healthy), None)
    return {
        "clones": answers,
        "identical": len(fingerprints) <= 1 and len(releases) <= 1,
        "replicas": [
            {
                "alias": alias,
                "lag": [
                    ((a.body.get("clone") or a.url), (a.body.get("checks") or {}).get(alias))
                    for a in answers
                ],
                "reads": _added(routing.get(alias, [])),
            }
            for alias in replicas
        ],
        "primary_reads": _added(routing.get("default", [])),
        "cache_rows": _cache_rates(cache),
        "cache_hit_rate": None if hits + misses == 0 else round(100 * hits / (hits + misses), 1),
        "jobs": (shared.body.get("jobs") if shared else None) or {},
        "orders": (shared.body.get("orders") if shared else None) or {},
        "prerender": (shared.body.get("prerender") if shared else None) or {},
    }


def scaling_page(request: HttpRequest) -> HttpResponse:
    """Staff only (``admin.site.admin_view``): the overview, reloaded every few seconds."""
    context = {
        **admin.site.each_context(request),
        "title": "Scaling",
        "overview": cluster_overview(),
        "refresh_seconds": 5,
    }
    return TemplateResponse(request, "admin/scaling.html", context)
