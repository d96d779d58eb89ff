"""``GET /healthz``: can this clone serve, and is it the same as its siblings?

Why and how: ``docs/observability.md``."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.errors import describe
from core.redis_guard import redis_client
from core.stats import cache_counts, db_read_counts
from ops.fingerprint import settings_fingerprint
from replication.databases import PRIMARY
from replication.replica_health import replica_probe

logger = logging.getLogger(__name__)


def _primary_state(alias: str) -> dict[str, object]:
    """Reachable and taking writes: a standby (in recovery) would fail every write."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        (in_recovery,) = cursor.fetchone()
    if in_recovery:
        return {"ok": False, "in_recovery": True, "error": "read-only standby"}
    return {"ok": True, "in_recovery": False}


def _replica_state(alias: str) -> dict[str, object]:
    """As the router sees it: would this clone read from the replica now?

    The router's own probe, cool-down included, so a replica that hangs costs a health
    check one connect timeout per cool-down, not one each time; why it is skipped is in
    the log (``replication.replica_health`` says it once per outage).
    """
    state = replica_probe(alias)
    if state is None:
        return {"ok": False, "error": "skipped by the router, reason in the log"}
    return {"ok": True, "in_recovery": True, "lag_bytes": state.lag_bytes}


def _cache_state(alias: str) -> dict[str, object]:
    redis_client(alias).ping()
    return {"ok": True}


def _probe(check: Callable[[str], dict[str, object]], name: str) -> dict[str, object]:
    try:
        return check(name)
    except Exception as error:  # noqa: BLE001  (any failure means "not available")
        logger.warning("healthz: %s is unavailable: %s", name, describe(error))
        return {"ok": False, "error": type(error).__name__}


def _sections(*, database_ok: bool) -> dict[str, object]:
    """``HEALTHZ_SECTIONS``: figures other apps report (e.g. job queues); informational,
    so a failing one is reported, never fatal.

    They read the primary, so they are skipped when its check failed: each would wait
    out the connect timeout again, and the answer must come before the load balancer
    (or ``deploy``) stops waiting for it.
    """
    sections = getattr(settings, "HEALTHZ_SECTIONS", {})
    if not database_ok:
        return {name: {"ok": False, "skipped": "database unavailable"} for name in sections}
    return {
        name: _probe(lambda path: import_string(path)(), path) for name, path in sections.items()
    }


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": _probe(_primary_state, PRIMARY),
        "sessions": _probe(_cache_state, settings.SESSION_CACHE_ALIAS),
        "cache": _probe(_cache_state, "default"),
    }
    for alias in settings.DATABASE_REPLICAS:
        checks[alias] = _probe(_replica_state, alias)
    healthy = checks["database"]["ok"] and checks["sessions"]["ok"]
    body = {
        "status": "ok" if healthy else "unavailable",
        "clone": settings.CLONE_NAME,
        "release": settings.RELEASE,
        "release_dir": str(settings.BASE_DIR),
        "settings_fingerprint": settings_fingerprint(),
        "checks": checks,
        # This clone's counters (core.stats): a flushed cache Redis does not reset them.
        "db_reads": db_read_counts(),
        "cache_stats": cache_counts(),
    }
    body |= _sections(database_ok=bool(checks["database"]["ok"]))
    return JsonResponse(body, status=200 if healthy else 503)
