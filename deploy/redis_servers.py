"""The Redis servers' config files: the one setting kept off the command line, the password."""

from __future__ import annotations

from .credentials import REDIS_SERVERS, Credentials
from .files import write_if_changed
from .paths import Layout
from .runtime import give_to_app_user


def render_redis_conf(password: str) -> str:
    return (
        "# Written by `python -m deploy up`; the other settings are on the command line.\n"
        f"requirepass {password}\n"
    )


def write_redis_confs(layout: Layout, credentials: Credentials) -> None:
    """(Re)write every server's file (mode 600); the directory, files included, then
    belongs to the user the servers run as. It holds sessions and jobs: mode 700."""
    for server in REDIS_SERVERS:
        path = layout.redis_conf(server)
        write_if_changed(path, render_redis_conf(credentials.redis_password(server)), 0o600)
    give_to_app_user(layout.redis_dir, mode=0o700)
