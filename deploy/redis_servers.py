"""The Redis servers' config files: the one setting kept off the command line, the password."""

from __future__ import annotations

import os

from .credentials import REDIS_SERVERS, Credentials
from .files import write_if_changed
from .paths import Layout
from .proc import AS_ROOT
from .runtime import require_app_user


def render_redis_conf(password: str) -> str:
    return (
        "# Written by `python -m deploy up`; the other settings are on the command line.\n"
        f"requirepass {password}\n"
    )


def write_redis_confs(layout: Layout, credentials: Credentials) -> None:
    """(Re)write every server's file: mode 600, owned by the user the servers run as."""
    for server in REDIS_SERVERS:
        path = layout.redis_conf(server)
        write_if_changed(path, render_redis_conf(credentials.redis_password(server)), 0o600)
        if AS_ROOT:
            user = require_app_user()
            os.chown(path, user.pw_uid, user.pw_gid)
