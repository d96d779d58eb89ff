"""PostgreSQL primary and streaming replica: data directories, configuration, database.

Authentication is ``trust`` on loopback: this is a throw-away local cluster listening on
127.0.0.1 only, with a unix socket inside RUN_DIR. Never copy this pg_hba.conf to a host
that other people can log in to; production uses passwords or certificates.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
from pathlib import Path

from .errors import CommandError, ConfigurationError
from .files import write_if_changed
from .health import pg_ready, wait_until
from .paths import Layout
from .proc import AS_ROOT, run
from .supervisord import Supervisor
from .tools import Tools
from .topology import DB_NAME, DB_USER, HOST, Topology

POSTGRES_USER = "postgres"  # PostgreSQL refuses to run as root; used only when we are root
SETTINGS_FILE = "scaleshop.conf"  # included from postgresql.conf; rewritten on every `up`

PG_HBA = f"""\
# Written by `python -m deploy up`. Local cluster only: trust on loopback, no passwords.
local   all           all                 trust
host    all           all   {HOST}/32    trust
host    replication   all   {HOST}/32    trust
"""


def render_settings(node: str, replica_delay: float) -> str:
    """The settings for ``node``; the port and addresses are passed on the command line."""
    lines = [
        "# Written by `python -m deploy up` for the local cluster; edits are overwritten.",
        "wal_level = replica",
        "max_wal_senders = 10",
        "wal_keep_size = '512MB'",  # a restarted replica can catch up without a slot
        "hot_standby = on",
        "hot_standby_feedback = on",
        "max_connections = 200",
        "shared_buffers = '128MB'",
        "logging_collector = off",  # supervisor captures stderr
    ]
    if node == "replica":
        # Lets tests prove read-your-writes against a lagging replica (DESIGN.md, 2a).
        lines.append(f"recovery_min_apply_delay = '{int(replica_delay * 1000)}ms'")
    return "\n".join(lines) + "\n"


def _owner_args() -> str | None:
    return POSTGRES_USER if AS_ROOT else None


def _chown_to_postgres(path: Path) -> None:
    if AS_ROOT:
        entry = pwd.getpwnam(POSTGRES_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def prepare_dirs(layout: Layout) -> None:
    """Create ``pg/`` and its socket directory, owned by the user postgres runs as."""
    if AS_ROOT:
        try:
            pwd.getpwnam(POSTGRES_USER)
        except KeyError as exc:
            raise ConfigurationError(
                f"running as root needs the '{POSTGRES_USER}' system user "
                "(apt-get install -y postgresql creates it)"
            ) from exc
    for path in (layout.pg_dir, layout.pg_socket_dir):
        path.mkdir(mode=0o755, exist_ok=True)
        _chown_to_postgres(path)


def write_settings(layout: Layout, node: str, replica_delay: float) -> bool:
    """(Re)write ``node``'s settings files; True when they changed (the running node must
    reload them: ``reload_settings``)."""
    data = layout.pg_data(node)
    changed = write_if_changed(data / SETTINGS_FILE, render_settings(node, replica_delay), 0o600)
    changed |= write_if_changed(data / "pg_hba.conf", PG_HBA, 0o600)
    for name in (SETTINGS_FILE, "pg_hba.conf"):
        _chown_to_postgres(data / name)
    return changed


def init_primary(layout: Layout, tools: Tools) -> bool:
    """initdb the primary unless its data directory exists; True if created now."""
    data = layout.pg_data("primary")
    if (data / "PG_VERSION").exists():
        return False
    if data.exists():
        shutil.rmtree(data)  # a half-made directory from an interrupted initdb
    run(
        [
            tools.pg("initdb"),
            "-D",
            data,
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ],
        what="initdb (postgres-primary)",
        cwd=layout.pg_dir,  # the postgres user may not be able to enter our cwd
        as_user=_owner_args(),
    )
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"\ninclude_if_exists = '{SETTINGS_FILE}'\n")
    return True


def _superuser_at(port: int) -> list[str]:
    """Client arguments reaching the local node on ``port`` as the ``postgres`` superuser."""
    return ["-h", HOST, "-p", str(port), "-U", "postgres"]


def init_replica(layout: Layout, tools: Tools, topology: Topology) -> bool:
    """Clone the running primary with ``pg_basebackup -R -X stream``; True if created now.

    ``-R`` writes ``standby.signal`` and ``primary_conninfo``; ``-c fast`` asks for an
    immediate checkpoint instead of waiting for the next scheduled one.
    """
    data = layout.pg_data("replica")
    if (data / "PG_VERSION").exists():
        streams_from = _streams_from(data)
        if streams_from in (None, topology.ports.pg_primary):
            return False
        # The primary moved (`up` with another SHOP_PG_PORT on a stopped cluster). A
        # replica holds nothing of its own: make it again from the primary.
        print(f"  the replica streams from port {streams_from}: making it again", flush=True)
    if data.exists():
        shutil.rmtree(data)
    run(
        [
            tools.pg("pg_basebackup"),
            *_superuser_at(topology.ports.pg_primary),
            "-D",
            data,
            *["-R", "-X", "stream", "-c", "fast"],
        ],
        what="pg_basebackup (postgres-replica)",
        cwd=layout.pg_dir,
        as_user=_owner_args(),
        timeout=300,
    )
    return True


def _streams_from(data: Path) -> int | None:
    """The primary's port in the replica's ``primary_conninfo`` (``pg_basebackup -R``)."""
    try:
        text = (data / "postgresql.auto.conf").read_text()
    except OSError:
        return None
    found = re.search(r"^primary_conninfo = '.*\bport=(\d+)", text, re.MULTILINE)
    return int(found.group(1)) if found else None


def ensure_database(tools: Tools, topology: Topology) -> None:
    """Create the ``shop`` role (LOGIN CREATEDB) and database on the primary if missing."""
    psql: list[str | Path] = [
        tools.pg("psql"),
        *_superuser_at(topology.ports.pg_primary),
        *["-d", "postgres", "-v", "ON_ERROR_STOP=1", "-tA", "-c"],
    ]
    run(
        [
            *psql,
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
            f"'{DB_USER}') THEN CREATE ROLE {DB_USER} LOGIN CREATEDB; END IF; END $$;",
        ],
        what="creating the shop role",
    )
    exists = run(
        [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"],  # noqa: S608 - constant
        what="looking for the shop database",
    )
    if exists.strip() != "1":
        run(
            [*psql, f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}"], what="creating the shop database"
        )


def query(tools: Tools, port: int, sql: str) -> str:
    """One value from the server on ``port`` as the superuser; "" if it cannot answer."""
    try:
        return run(
            [tools.pg("psql"), *_superuser_at(port), "-d", "postgres", "-tA", "-c", sql],
            what="psql",
            timeout=5,
        ).strip()
    except CommandError:
        return ""


def in_recovery(tools: Tools, port: int) -> bool:
    """True when the server on ``port`` is a standby (``pg_is_in_recovery()``)."""
    return query(tools, port, "SELECT pg_is_in_recovery()") == "t"


def reload_settings(supervisor: Supervisor, tools: Tools, node: str, port: int) -> None:
    """Apply rewritten settings to a running node without dropping its connections.

    SIGHUP, then wait until the server reports a newer configuration load time. Only if a
    changed setting needs a restart (``pending_restart``) is the node restarted.
    """
    name = f"postgres-{node}"
    loaded_at = "SELECT pg_conf_load_time()"
    before = query(tools, port, loaded_at)
    supervisor.signal(name, "HUP")
    wait_until(
        lambda: query(tools, port, loaded_at) not in ("", before),
        what=f"{name} reloading its settings",
        timeout=20,
    )
    if query(tools, port, "SELECT count(*) FROM pg_settings WHERE pending_restart") != "0":
        supervisor.restart(name)
        wait_until(
            lambda: pg_ready(tools.pg("pg_isready"), HOST, port),
            what=f"{name} restarting for new settings",
            timeout=60,
        )
