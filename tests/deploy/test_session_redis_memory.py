"""The session Redis is bounded and never evicts; `status` warns before it is full, and
a write it refuses when full is a 503 page, not a 500."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from deploy.programs import SESSIONS_MAXMEMORY
from deploy.status import memory_figures
from tests.cluster import deploy
from tests.deploy.helpers import cluster_status, new_session

MIB = 2**20


def test_a_cache_that_evicts_is_never_reported_near_its_limit() -> None:
    full_cache = {"used_memory": "99", "maxmemory": "100", "maxmemory_policy": "allkeys-lru"}
    assert memory_figures(full_cache)["near_limit"] is False
    unbounded = {"used_memory": "99", "maxmemory": "0", "maxmemory_policy": "noeviction"}
    assert memory_figures(unbounded) == {
        "used_bytes": 99,
        "max_bytes": None,
        "policy": "noeviction",
        "near_limit": False,
    }
    assert memory_figures({}) is None  # a server that did not answer


def test_the_session_redis_has_a_memory_limit_and_never_evicts(cluster: dict[str, Any]) -> None:
    memory = cluster["services"]["redis"]["memory"]
    assert memory["max_bytes"] == int(SESSIONS_MAXMEMORY.removesuffix("mb")) * MIB
    assert memory["policy"] == "noeviction"
    assert memory["near_limit"] is False


@pytest.fixture
def sessions_nearly_full(cluster: dict[str, Any]) -> Iterator[redis.Redis]:
    """The session Redis's limit lowered to just above what it uses (90% used), for the
    block; restored after."""
    sessions = redis.Redis.from_url(cluster["services"]["redis"]["url"])
    limit = sessions.config_get("maxmemory")["maxmemory"]
    used = sessions.info("memory")["used_memory"]
    sessions.config_set("maxmemory", int(used / 0.9))
    try:
        yield sessions
    finally:
        sessions.config_set("maxmemory", limit)


def test_status_warns_when_the_session_redis_nears_its_limit(sessions_nearly_full) -> None:
    memory = cluster_status()["services"]["redis"]["memory"]
    assert memory["near_limit"] is True

    table = deploy("status")
    assert "WARNING: redis uses" in table
    assert "never evicts" in table


def test_a_cart_that_the_full_session_redis_cannot_keep_gets_a_503_page(
    cluster: dict[str, Any], lb_url: str, product_slug: str
) -> None:
    sessions = redis.Redis.from_url(cluster["services"]["redis"]["url"])
    limit = sessions.config_get("maxmemory")["maxmemory"]
    shopper = new_session()
    token = secrets.token_hex(16)
    shopper.cookies.set("csrftoken", token)
    sessions.config_set("maxmemory", sessions.info("memory")["used_memory"] // 2)  # full
    try:
        answer = shopper.post(
            f"{lb_url}/cart/add/{product_slug}/",
            data={"csrfmiddlewaretoken": token, "quantity": "1"},
            timeout=10,
        )
        reading = shopper.get(f"{lb_url}/cart.json", timeout=10)
    finally:
        sessions.config_set("maxmemory", limit)

    assert answer.status_code == 503, answer.text[:300]
    assert "busy for a moment" in answer.text and answer.headers["Retry-After"] == "30"
    assert "sessionid" not in shopper.cookies  # nothing half-kept
    assert reading.status_code == 200  # reads go on
    # Once there is room again, the same add works.
    again = shopper.post(
        f"{lb_url}/cart/add/{product_slug}/",
        data={"csrfmiddlewaretoken": token, "quantity": "1"},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert again.status_code == 200 and again.json()["count"] == 1
