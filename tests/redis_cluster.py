"""A 3-master Redis Cluster on loopback ports, for the cache's tests (one per test run).

The machine's own ``redis-server`` and ``redis-cli``, as the local cluster uses; each
server has a password (``requirepass``, and ``masterauth`` for the cluster's own links)
kept in its config file, never on a command line. Ports: ``SHOP_REDIS_CLUSTER_PORT``
and the five after it (three servers, then their cluster buses), else free ones.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

MASTERS = 3


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
        start = random.randint(20000, 32000 - 2 * MASTERS)  # noqa: S311
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
            processes.append(subprocess.Popen(["redis-server", str(conf)], stdout=log, stderr=log))  # noqa: S603, S607
    cluster = RedisClusterServers(
        url=f"redis://:{password}@127.0.0.1:{servers[0]}/0", processes=processes
    )
    try:
        for port in servers:
            _wait(
                lambda port=port: Redis(port=port, password=password).ping(), what=f"redis {port}"
            )
        subprocess.run(  # noqa: S603
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{port}" for port in servers),  # noqa: S607
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
