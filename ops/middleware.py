"""Cross-cutting middleware: they come first in ``MIDDLEWARE``, see each docstring."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ops.health import healthz
from ops.metrics import METRICS_PATH, metrics

HEALTHZ_PATH = "/healthz"
INTERNAL = {HEALTHZ_PATH: healthz, METRICS_PATH: metrics}


class CloneHeaderMiddleware:
    """Name the clone that served each dynamic response in ``X-Clone``.

    With it a shopper (or a test) can see requests spread over the clones while the
    session and cart stay the same. Listed first, so that responses made by the other
    middleware (redirects, a refused Host's 400) carry it too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["X-Clone"] = settings.CLONE_NAME
        return response


class HealthCheckMiddleware:
    """Answer ``/healthz`` (and ``/metrics``, for the same reasons) before any other
    middleware sees the request.

    The only way to ``/healthz`` (it has no URL pattern). The load balancer and
    ``deploy`` ask each clone at its own address (``http://10.0.0.5:8001/healthz``): a
    Host that ``ALLOWED_HOSTS`` rightly refuses, over plain HTTP that
    ``SECURE_SSL_REDIRECT`` would redirect. The report builds no URL from the Host
    header, sets no cookie and changes nothing (other methods than GET and HEAD get a
    405), so it is safe to answer it here; every other path still goes through host
    validation and the HTTPS redirect. Who may ask is the load balancer's business
    (nginx lets only internal addresses reach ``/healthz``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        internal = INTERNAL.get(request.path_info)
        if internal is not None:
            return internal(request)
        return self.get_response(request)
