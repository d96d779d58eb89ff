"""Lua scripts kept in ``.lua`` files: read once per process, registered once per client."""

from __future__ import annotations

from pathlib import Path
from weakref import WeakKeyDictionary

from redis import Redis
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
