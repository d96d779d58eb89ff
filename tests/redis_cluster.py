"""A 3-master Redis Cluster on loopback ports, and the cache's tests run on it too.

A test that takes ``cache_server`` (a module: ``pytest.mark.usefixtures("cache_server")``)
runs twice: on the local cluster's single cache Redis, then with the cache on a Redis
Cluster started once per run. Tests that go through the running clones (``lb_url``) run
once: the clones' cache is the single Redis ``make up`` started, whatever the test's
settings say. A command a cluster refuses (keys of two slots in one script, a blocked
pipelined command) looks like an outage to the cache, which carries on without it: such
a test fails on the warning it logs, rather than pass with no cache at all.

The servers are the machine's own ``redis-server`` and ``redis-cli``, as the local cluster
uses; each has a password (``requirepass``, and ``masterauth`` for the cluster's own
links) in its config file, never on a command line. Ports: ``SHOP_REDIS_CLUSTER_PORT``
and the five after it (three servers, then their cluster buses), else free ones.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import RedisError

from core.redis_cluster import FACTORY

MASTERS = 3
# What a cluster says to a command it refuses (redis-py's words, then the server's).
REFUSED = ("same key slot", "cluster mode", "CROSSSLOT", "non local key", "NOSCRIPT")


@dataclass
class RedisClusterServers:
    url: str  # one node's; the client finds the others
    processes: list[subprocess.Popen]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=15)


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _ports() -> list[int]:
    """Three server ports, then three bus ports, below Linux's ephemeral range."""
    first = os.environ.get("SHOP_REDIS_CLUSTER_PORT")
    if first:
        return list(range(int(first), int(first) + 2 * MASTERS))
    for _ in range(50):
        start = random.randint(20000, 32000 - 2 * MASTERS)
        ports = list(range(start, start + 2 * MASTERS))
        if all(_is_free(port) for port in ports):
            return ports
    raise RuntimeError("no six free loopback ports for the test's Redis Cluster")


def _config(port: int, bus_port: int, directory: Path, password: str) -> str:
    return (
        f"port {port}\nbind 127.0.0.1\ncluster-enabled yes\ncluster-port {bus_port}\n"
        f'cluster-config-file nodes.conf\ndir {directory}\nsave ""\nappendonly no\n'
        f"requirepass {password}\nmasterauth {password}\n"
    )


def start_redis_cluster(directory: Path) -> RedisClusterServers:
    """Start the servers, join them as one cluster, and wait until it serves every slot."""
    ports = _ports()
    busy = [port for port in ports if not _is_free(port)]
    if busy:
        raise RuntimeError(f"ports {busy} for the test's Redis Cluster are taken")
    password = secrets.token_urlsafe(24)
    servers, buses = ports[:MASTERS], ports[MASTERS:]
    processes = []
    for port, bus_port in zip(servers, buses, strict=True):
        node = directory / f"node-{port}"
        node.mkdir(mode=0o700)
        conf = node / "redis.conf"
        conf.touch(mode=0o600)
        conf.write_text(_config(port, bus_port, node, password))
        with (node / "redis.log").open("wb") as log:
            processes.append(subprocess.Popen(["redis-server", str(conf)], stdout=log, stderr=log))
    cluster = RedisClusterServers(
        url=f"redis://:{password}@127.0.0.1:{servers[0]}/0", processes=processes
    )
    try:
        for port in servers:
            _wait(
                lambda port=port: Redis(port=port, password=password).ping(), what=f"redis {port}"
            )
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{port}" for port in servers),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            env=os.environ | {"REDISCLI_AUTH": password},
            check=True,
            capture_output=True,
            timeout=60,
        )
        for port in servers:
            client = Redis(port=port, password=password)
            _wait(
                lambda client=client: client.cluster("info")["cluster_state"] == "ok",
                what="cluster_state:ok",
            )
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _wait(ready, *, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except RedisError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the test's Redis Cluster: timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory) -> Iterator[str]:
    """A 3-master Redis Cluster on loopback ports for this run (about 3 s to start)."""
    servers = start_redis_cluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        yield servers.url
    finally:
        servers.stop()


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
        if record.name == "core.redis_guard"
        and any(word in record.getMessage() for word in REFUSED)
    ]
    assert not refused, f"the cache sent a command {request.param} refuses: {refused}"
