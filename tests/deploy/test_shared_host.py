"""The running cluster on a host shared with other accounts: nothing is open to them."""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from deploy.runtime import APP_USER
from tests.deploy.helpers import cluster_status

REDIS_SERVICES = ("redis", "redis_cache", "redis_broker")


def _uid(pid: int) -> int | None:
    """The real user id of ``pid``; None when it has just exited (a worker recycled)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def _with_children(pid: int) -> list[int]:
    """``pid`` and every process below it (gunicorn's and Dramatiq's workers)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            ppid = int(next(s for s in status.splitlines() if s.startswith("PPid:")).split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += parents.get(current, [])
    return found


@pytest.mark.usefixtures("cluster")
def test_no_clone_worker_relay_or_redis_server_runs_as_root() -> None:
    now = cluster_status()  # the pids of this moment: earlier tests restart processes
    tops = [p["pid"] for p in (*now["clones"], *now["workers"])]
    tops += [now["services"][key]["pid"] for key in REDIS_SERVICES]
    expected = pwd.getpwnam(APP_USER).pw_uid if os.geteuid() == 0 else os.geteuid()
    uids = {
        pid: uid for top in tops for pid in _with_children(top) if (uid := _uid(pid)) is not None
    }
    assert len(uids) > len(tops)  # the clones' and workers' own worker processes too
    assert set(uids.values()) == {expected}
    assert expected != 0


@pytest.mark.parametrize("service", REDIS_SERVICES)
def test_redis_refuses_a_client_without_the_password(cluster: dict[str, Any], service: str) -> None:
    port = cluster["services"][service]["port"]
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(b"PING\r\n")
        assert conn.recv(64).startswith(b"-NOAUTH")


@pytest.mark.parametrize("node", ["primary", "replica"])
@pytest.mark.parametrize("role", ["postgres", "shop", "replicator"])
def test_postgres_refuses_every_role_without_a_password(
    cluster: dict[str, Any], node: str, role: str
) -> None:
    port = cluster["services"][node]["port"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    done = subprocess.run(
        ["/usr/bin/psql", "-h", "127.0.0.1", "-p", str(port), "-U", role, "-w", "-d", "shop"],
        input="SELECT 1",
        env={**env, "PGPASSFILE": "/dev/null"},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert done.returncode != 0
    assert "no password supplied" in done.stderr


def test_the_urls_of_status_json_connect(cluster: dict[str, Any]) -> None:
    services = cluster["services"]
    for node, in_recovery in (("primary", False), ("replica", True)):
        with psycopg.connect(services[node]["url"], connect_timeout=3) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (in_recovery,)
    with psycopg.connect(services["primary"]["admin_url"], connect_timeout=3) as conn:
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert superuser.fetchone() == (True,)
    for key in REDIS_SERVICES:
        assert redis.Redis.from_url(services[key]["url"], socket_timeout=2).ping() is True


def test_secrets_and_customer_data_are_their_owners_alone(cluster: dict[str, Any]) -> None:
    run_dir = Path(cluster["run_dir"])

    def others_bits(path: Path) -> int:
        return path.stat().st_mode & 0o077

    private = [
        run_dir / "credentials.json",
        run_dir / "cluster.env",
        *(run_dir / "programs").glob("*.conf"),
        *(run_dir / "redis").glob("*.conf"),
        run_dir / "logs",  # nginx's access log names order status pages
        run_dir / "mail",  # whole orders
        run_dir / "redis",  # sessions and jobs
        run_dir / "pg" / "sock",  # the superuser's way in
    ]
    assert {str(path): others_bits(path) for path in private} == {str(p): 0 for p in private}
    # Pictures with a customer's writing: nginx's workers (group) read them, no one else.
    assert (run_dir / "media").stat().st_mode & 0o007 == 0
    secret_key = dict(
        line.split("=", 1)
        for line in (run_dir / "cluster.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )["DJANGO_SECRET_KEY"]
    assert len(secret_key) >= 50
