"""A URL whose view fails, for the error-report test (tests/ops/test_sentry.py)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as shop_urlpatterns


def fail(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("sentry-test-boom")


urlpatterns = [path("boom/", fail), *shop_urlpatterns]
