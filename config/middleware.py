"""Cross-cutting response middleware."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class CloneHeaderMiddleware:
    """Name the clone that served each dynamic response in ``X-Clone``.

    With it a shopper (or a test) can see requests spread over the clones while the
    session and cart stay the same.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["X-Clone"] = settings.CLONE_NAME
        return response
