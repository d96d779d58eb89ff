"""Error reports: ``SENTRY_DSN`` turns sentry-sdk on; without it, it is not even imported.

Each case boots Django in a process of its own (sentry-sdk is set up with the settings,
once per process), against a fake Sentry: a local HTTP server that keeps what it gets.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.deploy.helpers import CHECKOUT

# A request whose view raises, answered 500 by Django, then whatever is queued is sent.
SCRIPT = """
import os, sys
import django
django.setup()
print("sentry imported:", "sentry_sdk" in sys.modules)
from django.test import Client, override_settings
with override_settings(ROOT_URLCONF="tests.ops.failing_urls", ALLOWED_HOSTS=["testserver"]):
    print("status:", Client(raise_request_exception=False).get("/boom/").status_code)
if "sentry_sdk" in sys.modules:
    import sentry_sdk
    print("sentry active:", sentry_sdk.get_client().is_active())
    sentry_sdk.flush(timeout=10)
"""


@pytest.fixture
def fake_sentry() -> Iterator[tuple[str, list[bytes]]]:
    """(DSN, envelopes received) of a Sentry stand-in on a free loopback port."""
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://public@127.0.0.1:{server.server_port}/1", received
    finally:
        server.shutdown()
        server.server_close()


def _django_process(**env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=CHECKOUT,
        env={**environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _events(envelopes: list[bytes]) -> list[dict]:
    """The event items of Sentry envelopes (JSON lines: header, then item header + payload)."""
    events = []
    for envelope in envelopes:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


def test_with_a_dsn_an_unhandled_error_in_a_view_reaches_sentry(fake_sentry):
    dsn, received = fake_sentry
    output = _django_process(SENTRY_DSN=dsn)

    assert "status: 500" in output
    assert "sentry active: True" in output
    [event] = [
        e
        for e in _events(received)
        if any(v.get("value") == "sentry-test-boom" for v in e["exception"]["values"])
    ]
    error = event["exception"]["values"][-1]
    assert (error["type"], error["mechanism"]["type"]) == ("RuntimeError", "django")
    assert event["release"]


def test_without_a_dsn_sentry_is_not_set_up(fake_sentry):
    _dsn, received = fake_sentry
    output = _django_process()

    assert "status: 500" in output
    assert "sentry imported: False" in output
    assert received == []
