"""A clone that dies hard (SIGKILL) costs no request and no session: nginx retries,
supervisor restarts, and the carts live in Redis."""

from __future__ import annotations

import os
import signal
import socket
import time
from typing import Any
from urllib.parse import urlsplit

from tests.deploy.helpers import LoadLoop, cluster_status, new_session


def test_sigkilled_clone_causes_no_failed_request_and_comes_back(
    cluster: dict[str, Any], lb_url: str, product_slug: str
) -> None:
    victim = cluster_status()["clones"][0]
    with (
        LoadLoop(lb_url, max_seconds=60) as reader,
        LoadLoop(lb_url, post_slug=product_slug, max_seconds=60) as shopper,
    ):
        time.sleep(1)
        # The whole clone dies at once (gunicorn master and workers), as when its host does.
        os.killpg(victim["pid"], signal.SIGKILL)
        dead_at = _when_port_refuses(victim["url"])
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            now = {c["name"]: c for c in cluster_status()["clones"]}[victim["name"]]
            if now["healthy"] and now["pid"] not in (None, victim["pid"]):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"{victim['name']} was not restarted within 45s: {now}")
        _wait_until_back_in_rotation(lb_url, victim["name"])
    assert reader.result.requests > 50
    assert shopper.result.requests > 50
    # nginx retries reads on another clone, so no GET fails at all.
    assert reader.result.failures == [], reader.result.failures[:10]
    # A POST already inside the killed clone dies with it (nginx must not replay it):
    # only a request sent before the clone was dead may fail; no cart may lose an item.
    assert shopper.result.failures_sent_after(dead_at) == [], shopper.result.failures
    assert len(shopper.result.failures) <= 1, shopper.result.failures
    assert cluster_status()["healthy"]


def _when_port_refuses(url: str, timeout: float = 10) -> float:
    """The moment the killed clone's port refuses connections: the clone is gone."""
    address = urlsplit(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address.hostname, address.port), timeout=0.2).close()
        except OSError:
            return time.monotonic()
        time.sleep(0.002)
    raise AssertionError(f"{url} still accepted connections {timeout}s after SIGKILL")


def _wait_until_back_in_rotation(lb_url: str, name: str, timeout: float = 20) -> None:
    """nginx skips a failed clone for `fail_timeout`, then tries it again: wait for that."""
    client = new_session()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get(f"{lb_url}/healthz", timeout=5).headers.get("X-Clone") == name:
            return
        time.sleep(0.05)
    raise AssertionError(f"nginx did not send requests to {name} again within {timeout}s")
