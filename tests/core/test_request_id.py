"""The request id: taken from X-Request-ID when sane, else made; answered and logged."""

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.utils.module_loading import import_string

from core.request_id import RequestIdFilter, current_request_id, request_id_set

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.testapp.urls")]


def test_a_sane_request_id_is_kept_and_answered(client):
    response = client.get("/books.json", HTTP_X_REQUEST_ID="test-123")
    assert response["X-Request-ID"] == "test-123"


@pytest.mark.parametrize("sent", [None, "", "two words", "x" * 129, "id\nforged log line"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(client, sent):
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}
    first = client.get("/books.json", **headers)["X-Request-ID"]
    second = client.get("/books.json", **headers)["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@contextmanager
def json_log(logger: str, settings) -> Iterator[io.StringIO]:
    """What ``logger`` writes through a handler made as the settings make the console's."""
    formatter = dict(settings.LOGGING["formatters"]["json"])
    formatter["fmt"] = formatter.pop("format")  # as logging.config.dictConfig passes it
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(import_string(formatter.pop("()"))(**formatter))
    handler.addFilter(RequestIdFilter())
    log = logging.getLogger(logger)
    log.addHandler(handler)
    level, log.level = log.level, logging.INFO
    try:
        yield stream
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def test_each_request_is_logged_with_its_id_as_one_json_line(client, settings):
    with json_log("scaleshop.access", settings) as stream:
        client.get("/books.json", HTTP_X_REQUEST_ID="log-me-1")

    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert (line["request_id"], line["path"], line["status"]) == ("log-me-1", "/books.json", 200)
    assert (line["logger"], line["level"], line["method"]) == ("scaleshop.access", "INFO", "GET")
    assert line["time"] and line["duration_ms"] >= 0


def test_outside_a_request_there_is_no_request_id():
    assert current_request_id() is None
    with request_id_set("job-1"):
        assert current_request_id() == "job-1"
    assert current_request_id() is None
