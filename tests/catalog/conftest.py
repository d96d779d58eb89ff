"""The cache's tests run twice: on the cluster's single cache Redis and on a Redis Cluster.

A module opts in with ``pytest.mark.usefixtures("cache_server")``. Its tests that go
through the running clones (``lb_url``) run once: the clones' cache is the single Redis
``make up`` started, whatever the test's settings say.
A command a cluster refuses (keys of two slots in one script, a blocked pipelined
command) looks like an outage to the cache, which carries on without it: such a test
fails on the warning it logs, rather than pass with no cache at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from config.redis_cluster import FACTORY
from tests.redis_cluster import start_redis_cluster


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory) -> Iterator[str]:
    """A 3-master Redis Cluster on loopback ports for this run (about 3 s to start)."""
    servers = start_redis_cluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        yield servers.url
    finally:
        servers.stop()


# What a cluster says to a command it refuses (redis-py's words, then the server's).
REFUSED = ("same key slot", "cluster mode", "CROSSSLOT", "non local key", "NOSCRIPT")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cache_server" in metafunc.fixturenames:
        through_clones = "lb_url" in metafunc.fixturenames
        servers = ["redis"] if through_clones else ["redis", "redis-cluster"]
        metafunc.parametrize("cache_server", servers, indirect=True)


@pytest.fixture
def cache_server(request, settings, caplog) -> Iterator[str]:
    """The cache on one Redis, then on a Redis Cluster (``REDIS_CACHE_CLUSTER=true``)."""
    if request.param == "redis-cluster":
        from django.core.cache import caches

        single = settings.CACHES["default"]
        options = single["OPTIONS"] | {"CONNECTION_FACTORY": FACTORY}
        settings.CACHES = settings.CACHES | {
            "default": single
            | {"LOCATION": request.getfixturevalue("redis_cluster_url"), "OPTIONS": options}
        }
        caches["default"].delete_pattern("*")  # as tests/conftest.py does for the single one
    yield request.param
    refused = [
        record.getMessage()
        for record in caplog.records
        if record.name == "config.redis_guard"
        and any(word in record.getMessage() for word in REFUSED)
    ]
    assert not refused, f"the cache sent a command {request.param} refuses: {refused}"
