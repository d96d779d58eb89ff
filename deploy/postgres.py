"""PostgreSQL primary and streaming replica: data directories, configuration, database.
Over TCP every role needs its password; the unix socket admits only the server's OS user.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
from pathlib import Path

from .credentials import Credentials
from .errors import CommandError, ConfigurationError
from .files import write_if_changed
from .health import pg_ready, wait_until
from .paths import Layout
from .proc import AS_ROOT, run
from .supervisord import Supervisor
from .tools import Tools
from .topology import DB_NAME, DB_USER, HOST, Topology

POSTGRES_USER = "postgres"  # PostgreSQL refuses to run as root; used only when we are root
SUPERUSER = "postgres"
REPLICATION_USER = "replicator"
SETTINGS_FILE = "scaleshop.conf"  # included from postgresql.conf; rewritten on every `up`

PG_HBA = f"""\
# Written by `python -m deploy up`; edits are overwritten.
# The socket: only the server's own OS user, as the superuser (see pg_ident.conf).
local   all           {SUPERUSER}      peer map=owner
# TCP on loopback: every role with its password.
host    all           all           {HOST}/32    scram-sha-256
host    replication   {REPLICATION_USER}    {HOST}/32    scram-sha-256
"""


def render_ident(os_user: str) -> str:
    """pg_ident.conf: the OS user that runs the server may connect as the superuser."""
    return f"# Written by `python -m deploy up`.\nowner   {os_user}   {SUPERUSER}\n"


def _server_os_user() -> str:
    return POSTGRES_USER if AS_ROOT else pwd.getpwuid(os.geteuid()).pw_name


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
        # Lets tests prove read-your-writes against a lagging replica (docs/lessons/2-replicate.md).
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
    layout.pg_dir.mkdir(mode=0o755, exist_ok=True)
    layout.pg_socket_dir.mkdir(mode=0o700, exist_ok=True)
    layout.pg_socket_dir.chmod(0o700)  # the socket is the superuser's way in
    for path in (layout.pg_dir, layout.pg_socket_dir):
        _chown_to_postgres(path)


def write_settings(layout: Layout, node: str, replica_delay: float) -> bool:
    """(Re)write ``node``'s settings files; True when they changed (the running node must
    reload them: ``reload_settings``)."""
    data = layout.pg_data(node)
    changed = write_if_changed(data / SETTINGS_FILE, render_settings(node, replica_delay), 0o600)
    changed |= write_if_changed(data / "pg_hba.conf", PG_HBA, 0o600)
    changed |= write_if_changed(data / "pg_ident.conf", render_ident(_server_os_user()), 0o600)
    for name in (SETTINGS_FILE, "pg_hba.conf", "pg_ident.conf"):
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
            *(tools.pg("initdb"), "-D", data, f"--username={SUPERUSER}"),
            "--auth-local=peer",  # the authentication: PG_HBA's before the first start
            *("--auth-host=reject", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"),
        ],
        what="initdb (postgres-primary)",
        cwd=layout.pg_dir,  # the postgres user may not be able to enter our cwd
        as_user=_owner_args(),
    )
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"\ninclude_if_exists = '{SETTINGS_FILE}'\n")
    return True


def _as_superuser(
    layout: Layout,
    tools: Tools,
    port: int,
    *,
    what: str,
    sql: str | None = None,
    script: str | None = None,
    timeout: float = 60.0,
) -> str:
    """Run ``sql`` (or a ``script`` on standard input) as the superuser through the node's
    socket, as the server's own OS user; the output, stripped."""
    return run(
        [
            tools.pg("psql"),
            *["-h", str(layout.pg_socket_dir), "-p", str(port), "-U", SUPERUSER, "-d", "postgres"],
            *["-v", "ON_ERROR_STOP=1", "-tA"],
            *(["-c", sql] if sql is not None else []),
        ],
        what=what,
        input=script,
        cwd=layout.pg_dir,  # the server's user may not be able to enter ours
        as_user=_owner_args(),
        timeout=timeout,
    ).strip()


def init_replica(
    layout: Layout, tools: Tools, topology: Topology, credentials: Credentials
) -> bool:
    """Clone the running primary with ``pg_basebackup -R -X stream``; True if created now.

    ``-R`` writes ``standby.signal`` and ``primary_conninfo`` (with the replication role's
    password, in a file only the server's user reads); ``-c fast`` asks for an immediate
    checkpoint instead of waiting for the next scheduled one.
    """
    data = layout.pg_data("replica")
    if (data / "PG_VERSION").exists():
        streams_from = _streams_from(data)
        if streams_from == (topology.ports.pg_primary, REPLICATION_USER):
            return False
        # The primary moved (`up` with another SHOP_PG_PORT on a stopped cluster), or the
        # replica was made before the replication role had a password. A replica holds
        # nothing of its own: make it again from the primary.
        print(f"  the replica streams as {streams_from}: making it again", flush=True)
    if data.exists():
        shutil.rmtree(data)
    run(
        [
            tools.pg("pg_basebackup"),
            *["-h", HOST, "-p", str(topology.ports.pg_primary), "-U", REPLICATION_USER, "-w"],
            *("-D", data, "-R", "-X", "stream", "-c", "fast"),
        ],
        what="pg_basebackup (postgres-replica)",
        cwd=layout.pg_dir,
        env={**os.environ, "PGPASSWORD": credentials.replicator},
        as_user=_owner_args(),
        timeout=300,
    )
    return True


def _streams_from(data: Path) -> tuple[int, str] | None:
    """(port, user) of the replica's ``primary_conninfo`` (``pg_basebackup -R``)."""
    try:
        text = (data / "postgresql.auto.conf").read_text()
    except OSError:
        return None
    found = re.search(r"^primary_conninfo = '(.*)'", text, re.MULTILINE)
    port = re.search(r"\bport=(\d+)", found.group(1)) if found else None
    user = re.search(r"\buser=(\w+)", found.group(1)) if found else None
    if not (port and user):
        return None
    return int(port.group(1)), user.group(1)


def ensure_database(
    layout: Layout, tools: Tools, topology: Topology, credentials: Credentials
) -> None:
    """Create the roles and the ``shop`` database on the primary if missing, and set each
    role's password (every `up`: a cluster from before passwords gets them here)."""
    port = topology.ports.pg_primary
    roles = {
        DB_USER: ("LOGIN CREATEDB", credentials.shop),
        REPLICATION_USER: ("LOGIN REPLICATION", credentials.replicator),
        SUPERUSER: ("", credentials.postgres),
    }
    statements = []
    for role, (options, password) in roles.items():
        if not re.fullmatch(r"[\w-]+", password):
            raise ConfigurationError(f"the password of {role} in credentials.json is not URL-safe")
        if options:
            statements.append(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                f"'{role}') THEN CREATE ROLE {role} {options}; END IF; END $$;"
            )
        statements.append(f"ALTER ROLE {role} PASSWORD '{password}';")
    # On standard input: a command line would show the passwords to every user (`ps`).
    _as_superuser(layout, tools, port, what="creating the roles", script="\n".join(statements))
    exists = f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"  # noqa: S608 - constant
    if _as_superuser(layout, tools, port, what="looking for the shop database", sql=exists) != "1":
        create = f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}"
        _as_superuser(layout, tools, port, what="creating the shop database", sql=create)


def query(layout: Layout, tools: Tools, port: int, sql: str) -> str:
    """One value from the server on ``port`` as the superuser; "" if it cannot answer."""
    try:
        return _as_superuser(layout, tools, port, what="psql", sql=sql, timeout=5)
    except CommandError:
        return ""


def execute(layout: Layout, tools: Tools, port: int, sql: str) -> str:
    """Run ``sql`` as the superuser on the server on ``port``; CommandError if it fails."""
    return _as_superuser(layout, tools, port, what="psql", sql=sql)


def in_recovery(layout: Layout, tools: Tools, port: int) -> bool:
    """True when the server on ``port`` is a standby (``pg_is_in_recovery()``)."""
    return query(layout, tools, port, "SELECT pg_is_in_recovery()") == "t"


def reload_settings(supervisor: Supervisor, tools: Tools, node: str, port: int) -> None:
    """Apply rewritten settings to a running node without dropping its connections.

    SIGHUP, then wait until the server reports a newer configuration load time. Only if a
    changed setting needs a restart (``pending_restart``) is the node restarted.
    """
    name = f"postgres-{node}"
    loaded_at = "SELECT pg_conf_load_time()"
    layout = supervisor.layout
    before = query(layout, tools, port, loaded_at)
    supervisor.signal(name, "HUP")
    wait_until(
        lambda: query(layout, tools, port, loaded_at) not in ("", before),
        what=f"{name} reloading its settings",
        timeout=20,
    )
    pending = "SELECT count(*) FROM pg_settings WHERE pending_restart"
    if query(layout, tools, port, pending) != "0":
        supervisor.restart(name)
        wait_until(
            lambda: pg_ready(tools.pg("pg_isready"), HOST, port),
            what=f"{name} restarting for new settings",
            timeout=60,
        )
