"""django-redis on a Redis Cluster: the cache's client is redis-py's ``RedisCluster``.

Why and how: ``docs/lessons/3-cache-on-redis-cluster.md``."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from django_redis.pool import ConnectionFactory
from redis.cluster import RedisCluster

FACTORY = "core.redis_cluster.ClusterConnectionFactory"  # OPTIONS["CONNECTION_FACTORY"]


class ClusterConnectionFactory(ConnectionFactory):
    """Hands django-redis one ``RedisCluster`` per URL and process (it is thread-safe)."""

    _clients: ClassVar[dict[str, RedisCluster]] = {}
    _lock = threading.Lock()

    def connect(self, url: str) -> Any:
        """The cluster's client; ``RedisClusterException`` while no node answers."""
        with self._lock:
            client = self._clients.get(url)
            if client is None:
                params = self.make_connection_params(url)
                # The cluster's own pools: django-redis's parser choice is a pool's.
                params.pop("parser_class", None)
                client = self._clients[url] = RedisCluster.from_url(**params)
        return client

    def disconnect(self, connection: Any) -> None:
        connection.disconnect_connection_pools()
