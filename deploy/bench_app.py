"""The figures of `make bench` that drive the app tier through its own commands: the Mongo
tier's read model, special orders (and a SIGKILLed worker's), the prerender targets.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from . import postgres
from .cluster import manage_output
from .credentials import load_credentials
from .errors import DeployError, NotRunningError
from .paths import Layout
from .programs import app_env
from .runtime import give_to_app_user
from .tools import Tools
from .topology import HOST, load_topology


@dataclass(frozen=True)
class Figure:
    """A measured figure and its target: met when ``value`` ≤ ``limit``."""

    name: str
    value: float
    unit: str
    limit: float

    @property
    def met(self) -> bool:
        return self.value <= self.limit


def deploy(*arguments: str, timeout: float = 900) -> str:
    """``python -m deploy ARGUMENTS``, its output; DeployError when it fails."""
    done = subprocess.run(  # noqa: S603  (this project's own deploy command)
        [sys.executable, "-m", "deploy", *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip()[-800:]
        raise DeployError(f"`deploy {' '.join(arguments)}` failed: {output}")
    return done.stdout


def _last_json(output: str) -> dict:
    """The JSON object a bench command prints as its last line."""
    lines = output.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError) as exc:
        raise DeployError(
            f"expected JSON as the last line, got: {output.strip()[-300:]!r}"
        ) from exc


def redis_flush(port: int, password: str, *, db: int = 0) -> None:
    """Empty database ``db`` of the Redis on ``port`` (RESP ``AUTH``, ``SELECT``,
    ``FLUSHDB``); NotRunningError when it does not answer or refuses."""
    secret, number = password.encode(), str(db).encode()
    commands = (
        b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(secret), secret)
        + b"*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n" % (len(number), number)
        + b"*1\r\n$7\r\nFLUSHDB\r\n"
    )
    answers = b""
    try:
        with socket.create_connection((HOST, port), timeout=5) as conn:
            conn.sendall(commands)
            while answers.count(b"\r\n") < 3 and (chunk := conn.recv(256)):
                answers += chunk
    except OSError as exc:
        raise NotRunningError(
            f"the Redis at {HOST}:{port} does not answer ({exc}); check `make status`"
        ) from exc
    if answers.split(b"\r\n")[:3] != [b"+OK", b"+OK", b"+OK"]:
        raise NotRunningError(f"the Redis at {HOST}:{port} refused FLUSHDB: {answers!r}")


@contextmanager
def mongo_read_model_on(layout: Layout) -> Iterator[None]:
    """The Mongo read model on for the block: a cluster running without it gets it
    switched on (`deploy up --mongo`, then the catalog synced) and off again after."""
    if load_topology(layout).mongo:
        yield
        return
    deploy("up", "--mongo")
    try:
        manage_output(layout, ["catalog_sync_mongo"])
        yield
    finally:
        deploy("up", "--no-mongo")


def special_orders(layout: Layout, *, burst: int, paced: int, kill_drill: bool) -> dict:
    """Jobs/s, placement-to-READY p50/p99 (ms) and, with ``kill_drill``, a SIGKILLed
    worker's order's seconds to READY; waits until the killed worker runs again."""
    arguments = ["bench_special_orders", f"--burst={burst}", f"--paced={paced}"]
    figures = _last_json(
        manage_output(layout, [*arguments, *([] if kill_drill else ["--no-kill"])])
    )
    if kill_drill:
        deploy("status", "--wait", "60")  # supervisor restarts the killed worker
    return figures


RENAME_TIMEOUT = 30.0


def published_pages(layout: Layout, lb_url: str, path: str) -> None:
    """Make sure nginx serves ``path`` prerendered (tier 2 and the re-render target need a
    published build, which `make up` makes): build one when there is none."""
    if not _prerendered_with(lb_url, path, ""):
        print("bench: no published build: building one (`manage.py prerender`)", file=sys.stderr)
        manage_output(layout, ["prerender", "--verbosity=0"])
    if not _prerendered_with(lb_url, path, ""):
        raise DeployError(f"{path} is not served prerendered (no X-Prerendered: 1) after a build")


def rerender_seconds(layout: Layout, lb_url: str, path: str) -> float:
    """Seconds from a product rename's commit until nginx serves the product's page
    prerendered with the new name (its name is restored afterwards)."""
    slug = path.rstrip("/").rsplit("/", 1)[1]
    token = f"bench{time.time_ns() % 10**9}"
    renamed = _last_json(
        manage_output(layout, ["bench_product_rename", f"--slug={slug}", f"--append={token}"])
    )
    try:
        deadline = time.monotonic() + RENAME_TIMEOUT
        while not _prerendered_with(lb_url, path, token):
            if time.monotonic() > deadline:
                raise DeployError(
                    f"{path} was not prerendered again {RENAME_TIMEOUT:.0f} s after a rename"
                )
            time.sleep(0.01)
        return time.time() - renamed["committed_at"]
    finally:
        manage_output(
            layout, ["bench_product_rename", f"--slug={slug}", f"--name={renamed['previous']}"]
        )


def _prerendered_with(lb_url: str, path: str, text: str) -> bool:
    address = urlsplit(lb_url)
    connection = http.client.HTTPConnection(address.hostname or HOST, address.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return response.getheader("X-Prerendered") == "1" and text in body


BUILD_DATABASE = "shop_bench_build"
# Redis database 1 of each server, emptied afterwards: the build's cache entries and
# watermark stay apart from the shop's, and no worker reads the jobs the seed queues.
BUILD_REDIS_DB = 1


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{path}"))


def full_build(layout: Layout, *, products: int) -> tuple[float, int]:
    """Seconds and pages of `manage.py prerender` over a catalog of ``products``
    products, seeded into a database of its own and built into a folder of its own."""
    topology, tools = load_topology(layout), Tools.discover(layout)
    env = app_env(topology, layout, "manage")
    folder = layout.run_dir / "bench-build"
    owner = urlsplit(env["DATABASE_URL"]).username
    overrides = {
        "DATABASE_URL": _with_path(env["DATABASE_URL"], BUILD_DATABASE),
        "REPLICA_DATABASE_URL": ",".join(
            _with_path(url, BUILD_DATABASE)
            for url in env.get("REPLICA_DATABASE_URL", "").split(",")
            if url
        ),
        **{
            name: _with_path(env[name], str(BUILD_REDIS_DB))
            for name in ("REDIS_URL", "REDIS_CACHE_URL", "DRAMATIQ_BROKER_URL")
        },
        "CATALOG_READ_MODEL": "sql",
        "PRERENDER_ROOT": str(folder),
    }
    primary = topology.ports.pg_primary
    drop = f"DROP DATABASE IF EXISTS {BUILD_DATABASE} WITH (FORCE)"
    postgres.execute(layout, tools, primary, drop)
    postgres.execute(layout, tools, primary, f"CREATE DATABASE {BUILD_DATABASE} OWNER {owner}")
    shutil.rmtree(folder, ignore_errors=True)
    give_to_app_user(folder, mode=0o700)
    try:
        manage_output(layout, ["migrate", "--noinput"], env_overrides=overrides)
        seed = ["seed_catalog", f"--products={products}", "--reviews-per-product=2"]
        manage_output(layout, [*seed, "--verbosity=0"], env_overrides=overrides)
        started = time.monotonic()
        output = manage_output(layout, ["prerender", "--verbosity=0"], env_overrides=overrides)
        seconds = time.monotonic() - started
    finally:
        postgres.execute(layout, tools, primary, drop)
        shutil.rmtree(folder, ignore_errors=True)
        credentials, ports = load_credentials(layout), topology.ports
        redis_flush(ports.redis, credentials.redis, db=BUILD_REDIS_DB)
        redis_flush(ports.redis_cache, credentials.redis_cache, db=BUILD_REDIS_DB)
        redis_flush(ports.redis_broker, credentials.redis_broker, db=BUILD_REDIS_DB)
    published = re.search(r"published \S+: (\d+) pages", output)
    if published is None:
        raise DeployError(f"the timed build published nothing: {output.strip()[-300:]!r}")
    return seconds, int(published.group(1))
