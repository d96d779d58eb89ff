"""The nightly build: once per night across the cluster, whatever runs the check.

Why and how: ``docs/lessons/4.1-bake-at-night.md``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

from jobs.outbox import outbox_enqueue

WINDOW = timedelta(hours=1)
CLAIM_SECONDS = 2 * 24 * 3600


def nightly_due(now: datetime) -> str | None:
    """The night (``YYYY-MM-DD``) whose build window ``now`` falls in, else None."""
    at = time.fromisoformat(settings.PRERENDER_NIGHTLY_AT)
    for day in (now.date(), now.date() - timedelta(days=1)):
        start = datetime.combine(day, at, tzinfo=UTC)
        if start <= now < start + WINDOW:
            return day.isoformat()
    return None


def nightly_claim(night: str) -> bool:
    """True for the first caller of the cluster for ``night``, False for every other."""
    claims = caches[settings.SESSION_CACHE_ALIAS]  # the Redis that never evicts
    return bool(claims.add(f"prerender:nightly:{night}", 1, timeout=CLAIM_SECONDS))


def nightly_build_if_due(now: datetime | None = None) -> int:
    """A sweep: queue tonight's build if its time has come and nobody queued it; 1 if
    this call queued it."""
    from prerender.actors import prerender_site

    night = nightly_due(now or datetime.now(tz=UTC))
    if night is None or not nightly_claim(night):
        return 0
    with transaction.atomic():
        outbox_enqueue(actor=prerender_site)
    return 1
