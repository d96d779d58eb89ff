"""One id per request, from nginx to the clone to the job it queued, in every log line.

Why and how: ``docs/operating.md``."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# Ids go into logs and headers: anything else is replaced, never passed on.
VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)
access_log = logging.getLogger("scaleshop.access")


def current_request_id() -> str | None:
    """The id of the request or job this code runs for, if any."""
    return _current.get()


@contextmanager
def request_id_set(value: str | None) -> Iterator[None]:
    """``value`` is the current request id inside the block (a job's, for a worker)."""
    token = _current.set(value)
    try:
        yield
    finally:
        _current.reset(token)


def request_id_from(header: str | None) -> str:
    """The caller's id if it is a sane one, else a new one."""
    if header and VALID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (None outside a request or job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True


class RequestIdMiddleware:
    """Listed first: take or make the id, answer it in ``X-Request-ID``, log the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get(HEADER))
        started = time.perf_counter()
        with request_id_set(request_id):
            response = self.get_response(request)
            response[HEADER] = request_id
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(1000 * (time.perf_counter() - started), 1),
                },
            )
        return response
