"""``GET /healthz``: can this clone serve, and is it the same as its siblings?

The load balancer and ``deploy`` read it. 200 when the clone can serve (primary
database and session store reachable), 503 otherwise. Optional parts (replica, object
cache) are reported but do not fail the check: the app works around them.
"""

from collections.abc import Callable

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache

from config.errors import describe
from config.fingerprint import settings_fingerprint
from config.redis_guard import redis_client
from config.stats import stat_counts


def _database_state(alias: str) -> dict[str, object]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        (in_recovery,) = cursor.fetchone()
    return {"ok": True, "in_recovery": in_recovery}


def _cache_state(alias: str) -> dict[str, object]:
    redis_client(alias).ping()
    return {"ok": True}


def _probe(check: Callable[[str], dict[str, object]], alias: str) -> dict[str, object]:
    try:
        return check(alias)
    except Exception as error:  # noqa: BLE001  (any failure means "not available")
        return {"ok": False, "error": describe(error, limit=200)}


def _sections() -> dict[str, object]:
    """``HEALTHZ_SECTIONS``: figures other apps report (e.g. job queues); informational,
    so a failing one is reported, never fatal."""
    return {
        name: _probe(lambda path: import_string(path)(), path)
        for name, path in getattr(settings, "HEALTHZ_SECTIONS", {}).items()
    }


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": _probe(_database_state, "default"),
        "sessions": _probe(_cache_state, settings.SESSION_CACHE_ALIAS),
        "cache": _probe(_cache_state, "default"),
    }
    for alias in settings.DATABASE_REPLICAS:
        checks[alias] = _probe(_database_state, alias)
    healthy = checks["database"]["ok"] and checks["sessions"]["ok"]
    body = {
        "status": "ok" if healthy else "unavailable",
        "clone": settings.CLONE_NAME,
        "release": settings.RELEASE,
        "settings_fingerprint": settings_fingerprint(),
        "checks": checks,
        "db_reads": stat_counts("db_reads"),
        "cache_stats": stat_counts("cache"),
    }
    body |= _sections()
    return JsonResponse(body, status=200 if healthy else 503)
