"""The session Redis is bounded and never evicts; `status` warns before it is full."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from deploy.programs import SESSIONS_MAXMEMORY
from deploy.status import memory_figures
from tests.cluster import deploy
from tests.deploy.helpers import cluster_status

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
