"""A clone that dies hard (SIGKILL) costs no request: nginx retries, supervisor restarts."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from tests.deploy.helpers import LoadLoop, cluster_status, new_session


def test_sigkilled_clone_causes_no_failed_request_and_comes_back(
    cluster: dict[str, Any], lb_url: str
) -> None:
    victim = cluster_status()["clones"][0]
    with LoadLoop(lb_url, max_seconds=60) as load:
        time.sleep(1)
        os.kill(victim["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            now = {c["name"]: c for c in cluster_status()["clones"]}[victim["name"]]
            if now["healthy"] and now["pid"] not in (None, victim["pid"]):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"{victim['name']} was not restarted within 45s: {now}")
        _wait_until_back_in_rotation(lb_url, victim["name"])
    assert load.result.requests > 50
    assert load.result.failures == [], load.result.failures[:10]
    assert cluster_status()["healthy"]


def _wait_until_back_in_rotation(lb_url: str, name: str, timeout: float = 20) -> None:
    """nginx skips a failed clone for `fail_timeout`, then tries it again: wait for that."""
    client = new_session()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get(f"{lb_url}/healthz", timeout=5).headers.get("X-Clone") == name:
            return
        time.sleep(0.05)
    raise AssertionError(f"nginx did not send requests to {name} again within {timeout}s")
