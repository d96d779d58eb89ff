"""The read-your-writes cookie: a write whose position is unknown stays safe, and a
cookie that cannot be trusted changes nothing.

Against the real primary and replica (rows must be replicated, so the tests commit).
"""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.db import OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.test.utils import CaptureQueriesContext, override_settings

from replication import read_your_writes
from replication.lsn import lsn_format
from replication.read_your_writes import COOKIE, COOKIE_SALT, ReadYourWritesMiddleware
from tests.replication.replicas import replicated_book
from tests.testapp.models import Book
from tests.testapp.rows import book_create

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    pytest.mark.urls("tests.testapp.urls"),
]
FAR_AHEAD = lsn_format(2**62)  # a write no replica has replayed


class _SignedAnHourAgo(signing.TimestampSigner):
    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - 3600)


def _signed(value: str) -> str:
    return signing.get_cookie_signer(salt=COOKIE + COOKIE_SALT).sign(value)


def _write(request: HttpRequest) -> HttpResponse:
    book_create()
    return HttpResponse("written")


def _read(request: HttpRequest) -> HttpResponse:
    Book.objects.exists()
    return HttpResponse("read")


def test_a_write_whose_position_cannot_be_read_succeeds_and_its_reads_stay_on_the_primary(
    rf, monkeypatch, caplog
):
    replicated_book()

    def primary_gone():
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(read_your_writes, "primary_current_lsn", primary_gone)
    written = ReadYourWritesMiddleware(_write)(rf.post("/books/new/"))

    assert written.status_code == 200
    assert "Cannot read the primary's WAL position" in caplog.text
    later = rf.get("/books.json")
    later.COOKIES[COOKIE] = written.cookies[COOKIE].value
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        read = ReadYourWritesMiddleware(_read)(later)
    assert read["X-DB-Read"] == "default (pinned)"
    assert on_replica.captured_queries == []
    fresh = ReadYourWritesMiddleware(_read)(rf.get("/books.json"))
    assert fresh["X-DB-Read"] == "replica (replica)"


def _read_with_cookie(client, value: str) -> str:
    client.cookies[COOKIE] = value
    response = client.get("/books.json")
    assert response.status_code == 200
    return response["X-DB-Read"]


def test_a_trusted_cookie_keeps_the_reads_on_the_primary_until_a_replica_has_the_write(client):
    replicated_book()
    assert _read_with_cookie(client, _signed(FAR_AHEAD)) == "default (sticky)"


def _tampered() -> str:
    value, signature = _signed(FAR_AHEAD).rsplit(":", 1)
    return f"{value}:{signature[::-1]}"


def _expired() -> str:
    with override_settings(SIGNING_BACKEND=f"{__name__}._SignedAnHourAgo"):
        return _signed(FAR_AHEAD)


@pytest.mark.parametrize("cookie", ["tampered", "expired", "not an lsn", "unsigned"])
def test_an_untrustworthy_cookie_is_ignored(client, cookie):
    replicated_book()
    value = {
        "tampered": _tampered,
        "expired": _expired,
        "not an lsn": lambda: _signed("not/an-lsn"),
        "unsigned": lambda: FAR_AHEAD,
    }[cookie]()

    assert _read_with_cookie(client, value) == "replica (replica)"
