"""Read-your-writes across requests, by WAL position rather than by a timer.

Why and how: ``docs/lessons/2-replicate.md``."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from core.errors import describe
from core.stats import db_read_count
from replication.databases import PRIMARY
from replication.lsn import Lsn, lsn_format, lsn_parse, primary_current_lsn
from replication.routing import note_writes, routing_scope

logger = logging.getLogger(__name__)

COOKIE = "rw_lsn"
COOKIE_SALT = "replication.read_your_writes"
ON_PRIMARY = "primary"  # the cookie's value when the write's LSN is unknown


class ReadYourWritesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        required, on_primary = _remembered_write(request)
        admin = request.path.startswith(reverse("admin:index"))
        with (
            routing_scope(required_lsn=required, pin_primary=admin or on_primary) as scope,
            connections[PRIMARY].execute_wrapper(note_writes),
        ):
            response = self.get_response(request)
        if scope.wrote:
            response.set_signed_cookie(
                COOKIE,
                _write_position(),
                salt=COOKIE_SALT,
                max_age=settings.READ_YOUR_WRITES_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        if scope.reads:
            # Nested scopes included (a cache refill reads in its own), so `curl -I` shows
            # where a page's reads went.
            response["X-DB-Read"] = ", ".join(f"{alias} ({why})" for alias, why in scope.reads)
            for alias, why in scope.reads:
                db_read_count(alias=alias, reason=why)
        return response


def _write_position() -> str:
    """The cookie's value after a write: the primary's LSN, or ``ON_PRIMARY``."""
    try:
        return lsn_format(primary_current_lsn())
    except DatabaseError as error:
        logger.warning(
            "Cannot read the primary's WAL position after a committed write; this "
            "browser reads from the primary for %ss: %s",
            settings.READ_YOUR_WRITES_SECONDS,
            describe(error),
        )
        return ON_PRIMARY


def _remembered_write(request: HttpRequest) -> tuple[Lsn | None, bool]:
    """From the cookie: (LSN the reads must have reached, read from the primary only)."""
    text = request.get_signed_cookie(
        COOKIE, default=None, salt=COOKIE_SALT, max_age=settings.READ_YOUR_WRITES_SECONDS
    )
    if text is None:
        return None, False  # no cookie, tampered or expired: nothing to wait for
    if text == ON_PRIMARY:
        return None, True
    try:
        return lsn_parse(text), False
    except ValueError:
        return None, False  # signed with our key yet malformed: ask for nothing, never fail
