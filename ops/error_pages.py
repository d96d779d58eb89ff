"""Error pages a person can read: every refusal of bad input is a 4xx page in the shop's
look (``templates/4xx.html``), never an empty body or a stack trace.

Why and how: ``docs/observability.md``."""

import sys
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults

from core.redis_guard import CACHE_ERRORS

TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``: 413 for a body over the upload limits, else Django's 400 page."""
    if isinstance(exception, TOO_LARGE):
        return render(request, "413.html", status=413)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: 503 when a Redis failed the request (e.g. the session store, full,
    refused to save a cart), else Django's 500 page. Like Django's, it renders without the
    request: its context would read the session that may be what failed."""
    if isinstance(sys.exception(), CACHE_ERRORS):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = "30"
        return response
    return defaults.server_error(request)


class MethodNotAllowedPageMiddleware:
    """Give Django's empty 405 (``require_POST`` and friends) a page naming the methods."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or response.content:
            return response
        allowed = response.get("Allow", "")
        page = render(request, "405.html", {"allowed": allowed}, status=405)
        page["Allow"] = allowed
        return page
