"""Lua scripts kept in ``.lua`` files: read once per process, registered once per client.

Every script names each key it touches in ``KEYS``, and those keys share a hash tag, so
they sit in one slot of a Redis Cluster (``docs/lessons/3-cache-on-redis-cluster.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from redis import Redis
from redis.cluster import ClusterPipeline
from redis.commands.core import Script

_sources: dict[Path, str] = {}
_registered: WeakKeyDictionary[Redis, dict[Path, Script]] = WeakKeyDictionary()


def redis_script(client: Redis, path: Path) -> Script:
    """The script in ``path``, registered with ``client`` (EVALSHA, loaded on first use)."""
    scripts = _registered.setdefault(client, {})
    script = scripts.get(path)
    if script is None:
        if path not in _sources:
            _sources[path] = path.read_text()
        script = scripts.setdefault(path, client.register_script(_sources[path]))
    return script


def redis_script_pipelined(
    client: Redis, path: Path, calls: Sequence[tuple[Sequence[Any], Sequence[Any]]]
) -> list[Any]:
    """The script in ``path`` run once per ``(keys, args)`` of ``calls``, pipelined: one
    round trip per server. redis-py's cluster pipeline refuses EVALSHA (a server that
    lacks the script could not be given it): there each call sends the script's text
    (EVAL), which the server compiles once."""
    script = redis_script(client, path)
    with client.pipeline(transaction=False) as pipe:
        for keys, args in calls:
            if isinstance(pipe, ClusterPipeline):
                pipe.execute_command("EVAL", script.script, len(keys), *keys, *args)
            else:
                script(keys=keys, args=args, client=pipe)
        return pipe.execute()
