"""The cache's Lua scripts name every key they touch in ``KEYS``: a Redis Cluster routes a
script by those, and refuses a key of another server (one of the same server it lets
pass, so the cluster tests alone cannot show this)."""

import re
from pathlib import Path

import pytest

LUA = Path(__file__).resolve().parents[2] / "caching" / "lua"
CALL = re.compile(r"redis\.call\('(\w+)',\s*([^,)]+)")


@pytest.mark.parametrize("path", sorted(LUA.glob("*.lua")), ids=lambda path: path.name)
def test_script_touches_only_keys_it_declares(path):
    source = path.read_text()
    declared = set(re.findall(r"for _, (\w+) in ipairs\(KEYS\)", source))
    calls = CALL.findall(source)
    assert calls, f"{path.name} calls no Redis command"
    for command, key in calls:
        assert key.startswith("KEYS[") or key in declared, f"{path.name}: {command} on {key}"
