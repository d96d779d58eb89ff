"""Read-your-writes across requests, by WAL position rather than by a timer.

After a request writes, the primary's WAL LSN goes into a signed cookie. The next
requests of that browser read from a replica only once it has replayed up to that
LSN, so a shopper always sees their own change, while everyone else keeps reading
from the replicas. Cost: one ``pg_current_wal_lsn()`` on requests that wrote, and one
probe query to a replica on requests that read.
"""

from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from config.lsn import Lsn, lsn_format, lsn_parse, primary_current_lsn
from config.read_routing import PRIMARY, note_writes, routing_scope
from config.stats import stat_count

COOKIE = "rw_lsn"
COOKIE_SALT = "config.read_your_writes"


class ReadYourWritesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        required = _required_lsn(request)
        admin = request.path.startswith(reverse("admin:index"))
        with (
            routing_scope(required_lsn=required, pin_primary=admin) as scope,
            connections[PRIMARY].execute_wrapper(note_writes),
        ):
            response = self.get_response(request)
        if scope.wrote:
            lsn = primary_current_lsn()
            response.set_signed_cookie(
                COOKIE,
                lsn_format(lsn),
                salt=COOKIE_SALT,
                max_age=settings.READ_YOUR_WRITES_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        if scope.read_alias is not None:
            response["X-DB-Read"] = f"{scope.read_alias} ({scope.reason})"
            stat_count("db_reads", scope.reason)
        return response


def _required_lsn(request: HttpRequest) -> Lsn | None:
    try:
        text = request.get_signed_cookie(
            COOKIE, salt=COOKIE_SALT, max_age=settings.READ_YOUR_WRITES_SECONDS
        )
        return lsn_parse(text) if text else None
    except (KeyError, signing.BadSignature, ValueError):
        return None  # no cookie, tampered or expired: nothing to wait for
