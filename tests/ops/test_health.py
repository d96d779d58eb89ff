"""``/healthz``: what a clone reports, when it is unhealthy, and who can ask it."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connections

from ops import health
from replication.databases import PRIMARY
from tests.replication.replicas import closed_port, extra_replica, silent_port

pytestmark = [
    pytest.mark.django_db(databases=["default", "replica"]),
    pytest.mark.urls("tests.testapp.urls"),
]


@contextmanager
def primary_hung(connect_timeout: int) -> Iterator[None]:
    """The primary's alias points at a server that never answers, for the block.

    The connection is swapped in Django's handler, as ``extra_replica`` adds one; the
    test's own connection (and its transaction) is put back afterwards.
    """
    primary = connections[PRIMARY]
    options = {**primary.settings_dict["OPTIONS"], "connect_timeout": connect_timeout}
    with silent_port() as port:
        hung = {**primary.settings_dict, "HOST": "127.0.0.1", "PORT": port, "OPTIONS": options}
        connections[PRIMARY] = type(primary)(hung, PRIMARY)
        try:
            yield
        finally:
            connections[PRIMARY].close()
            connections[PRIMARY] = primary


def test_healthz_reports_identity_and_every_service(client, settings):
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["release"] == settings.RELEASE
    assert body["clone"] == settings.CLONE_NAME
    assert len(body["settings_fingerprint"]) == 16
    assert body["checks"]["database"] == {"ok": True, "in_recovery": False}
    replica = body["checks"]["replica"]
    assert (replica["ok"], replica["in_recovery"]) == (True, True)
    # Other test runs' writes may be on their way: a backlog under the bound.
    assert 0 <= replica["lag_bytes"] <= settings.REPLICA_MAX_LAG_BYTES
    assert body["checks"]["sessions"] == {"ok": True}
    assert body["checks"]["cache"] == {"ok": True}
    assert response["X-Clone"] == settings.CLONE_NAME


def test_healthz_is_503_when_the_session_store_is_unreachable(client, settings):
    settings.CACHES = settings.CACHES | {
        "sessions": settings.CACHES["sessions"] | {"LOCATION": "redis://127.0.0.1:1/0"}
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["sessions"]["ok"] is False


def test_healthz_is_503_when_the_primary_is_a_standby(client, monkeypatch):
    monkeypatch.setattr(health, "PRIMARY", "replica")  # a clone pointed at a standby

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False


def test_a_hung_primary_answers_503_within_one_connect_timeout(client, settings):
    """The figures of ``HEALTHZ_SECTIONS`` read the primary: each would wait again."""
    assert settings.HEALTHZ_SECTIONS  # else this test proves nothing
    timeout = 2  # libpq's shortest

    started = time.monotonic()
    with primary_hung(connect_timeout=timeout):
        response = client.get("/healthz")
    elapsed = time.monotonic() - started

    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert {name: body[name] for name in settings.HEALTHZ_SECTIONS} == {
        name: {"ok": False, "skipped": "database unavailable"} for name in settings.HEALTHZ_SECTIONS
    }
    assert body["checks"]["sessions"] == {"ok": True}  # the rest is still reported
    assert elapsed < 2 * timeout  # one wait for the primary, not one per section


def test_healthz_reports_a_failure_without_addresses_users_or_passwords(client, caplog):
    port = closed_port()
    with extra_replica("replica_gone", HOST="127.0.0.1", PORT=port, PASSWORD="hunter2"):
        response = client.get("/healthz")

    assert response.status_code == 200  # a replica is optional
    failure = response.json()["checks"]["replica_gone"]
    assert failure["ok"] is False
    assert str(port) not in failure["error"]
    logged = [r.getMessage() for r in caplog.records if "replica_gone" in r.getMessage()]
    assert str(port) in logged[0]  # the details are in the clone's log
    assert "hunter2" not in response.text + caplog.text


def test_healthz_names_the_kind_of_failure_only(client, settings):
    settings.CACHES = settings.CACHES | {
        "default": settings.CACHES["default"] | {"LOCATION": "redis://:hunter2@127.0.0.1:1/0"}
    }
    assert client.get("/healthz").json()["checks"]["cache"] == {
        "ok": False,
        "error": "ConnectionError",
    }


def test_a_clone_answers_a_health_check_sent_to_its_own_address(client, settings):
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    checked = client.get("/healthz", HTTP_HOST="10.0.0.5:8001")
    page = client.get("/books.json", HTTP_HOST="10.0.0.5:8001")
    redirected = client.get("/books.json", HTTP_HOST="shop.example.com")

    assert checked.status_code == 200
    assert client.head("/healthz", HTTP_HOST="10.0.0.5:8001").status_code == 200
    assert page.status_code == 400  # every other page still validates the Host
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://shop.example.com/books.json"
    assert {r["X-Clone"] for r in (page, redirected)} == {settings.CLONE_NAME}


def test_healthz_refuses_other_methods_whatever_the_host(client, settings):
    settings.ALLOWED_HOSTS = ["shop.example.com"]

    for host in ("shop.example.com", "10.0.0.5:8001"):
        refused = client.post("/healthz", HTTP_HOST=host)
        assert refused.status_code == 405
        assert refused["Allow"] == "GET, HEAD"
