"""Cluster status: one snapshot of every component, as JSON and as a table.

Clone health and release come from each clone's own ``/healthz`` (HTTP 200 when healthy),
so the status reflects what the app reports, not only that a process exists. Workers
listen on no port: their health is supervisor's RUNNING. The job queue figures (orders
per state, broker depth, unsent outbox rows) are the ``jobs`` section of a clone's
``/healthz``, so this package needs no Django to show them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .credentials import load_credentials
from .health import http_get, pg_ready, redis_info, redis_ping
from .mongo import mongo_ping
from .paths import Layout
from .postgres import SUPERUSER, in_recovery
from .supervisord import Supervisor
from .tools import Tools
from .topology import DB_NAME, DB_USER, HOST, Topology, load_topology

# `status` warns when a Redis with a memory limit uses this much of it.
MEMORY_WARN_FRACTION = 0.8


def collect_status(
    layout: Layout, tools: Tools, topology: Topology | None = None
) -> dict[str, Any]:
    """A JSON-ready snapshot; ``healthy`` at the top is True only if every part is."""
    topology = topology or load_topology(layout)
    credentials = load_credentials(layout)
    ports = topology.ports
    processes = Supervisor(layout).processes()

    def process(name: str) -> dict[str, Any]:
        info = processes.get(name)
        return {"pid": info.pid if info else None, "state": info.state if info else "ABSENT"}

    def postgres(name: str, port: int, standby: bool) -> dict[str, Any]:
        healthy = pg_ready(tools.pg("pg_isready"), HOST, port)
        if healthy and standby:
            healthy = in_recovery(layout, tools, port)
        return {
            "host": HOST,
            "port": port,
            "dbname": DB_NAME,
            "user": DB_USER,
            "url": topology.database_url(port, credentials.shop),
            # The superuser, for maintenance (psql "$(... admin_url)").
            "admin_url": topology.database_url(port, credentials.postgres, user=SUPERUSER),
            **process(name),
            "healthy": healthy,
        }

    def redis(name: str, port: int) -> dict[str, Any]:
        password = credentials.redis_password(name)
        return {
            "url": topology.redis_url(port, password),
            "host": HOST,
            "port": port,
            **process(name),
            "healthy": redis_ping(HOST, port, password),
            "memory": memory_figures(redis_info(HOST, port, password, "memory")),
        }

    clones = []
    clone_answers = []
    for name in topology.clone_names:
        url = topology.clone_url(name)
        answer = http_get(f"{url}/healthz")
        clone_answers.append(answer.body)
        clones.append(
            {
                "name": name,
                "url": url,
                **process(name),
                "release": answer.body.get("release"),
                "release_dir": answer.body.get("release_dir"),
                "settings_fingerprint": answer.body.get("settings_fingerprint"),
                "healthy": answer.ok,
                "error": answer.error or None,
            }
        )
    workers = [
        {"name": name, **process(name), "healthy": process(name)["state"] == "RUNNING"}
        for name in topology.worker_names
    ]
    jobs = next(
        (
            {"orders": body.get("orders"), **figures}
            for body in clone_answers
            if isinstance(figures := body.get("jobs"), dict)
        ),
        None,
    )
    services = {
        "primary": postgres("postgres-primary", ports.pg_primary, standby=False),
        "replica": postgres("postgres-replica", ports.pg_replica, standby=True),
        "redis": redis("redis", ports.redis),
        "redis_cache": redis("redis-cache", ports.redis_cache),
        "redis_broker": redis("redis-broker", ports.redis_broker),
        "nginx": {
            "url": topology.lb_url,
            **process("nginx"),
            "healthy": http_get(f"{topology.lb_url}/_lb/health").ok,
        },
    }
    if topology.mongo:
        services["mongo"] = {
            "url": topology.mongo_url(credentials.mongo),
            "host": HOST,
            "port": ports.mongo,
            **process("mongo"),
            "healthy": mongo_ping(topology.mongo_url(credentials.mongo)),
        }
    healthy = all(part["healthy"] for part in (*clones, *workers, *services.values()))
    return {
        "healthy": healthy,
        "run_dir": str(layout.run_dir),
        "release": topology.release,
        "replica_delay": topology.replica_delay,
        "lb": topology.lb_url,
        "ports": asdict(ports),
        "clones": clones,
        "workers": workers,
        "services": services,
        "jobs": jobs,
        "prerender": prerender_section(clone_answers),
        # Prometheus scrape addresses (text format), reachable from this host only.
        "metrics": topology.metrics_urls,
    }


def format_table(status: dict[str, Any]) -> str:
    """The snapshot as an aligned, human-readable table."""
    rows = [("NAME", "ADDRESS", "PID", "STATE", "HEALTH", "RELEASE")]
    names = {
        "primary": "postgres-primary",
        "replica": "postgres-replica",
        "redis": "redis",
        "redis_cache": "redis-cache",
        "redis_broker": "redis-broker",
        "nginx": "nginx",
        "mongo": "mongo",
    }
    for key, service in status["services"].items():
        address = service.get("url") if key == "nginx" else f"{service['host']}:{service['port']}"
        rows.append(
            (
                names[key],
                str(address),
                str(service["pid"] or "-"),
                service["state"],
                "ok" if service["healthy"] else "UNHEALTHY",
                "",
            )
        )
    for clone in status["clones"]:
        rows.append(
            (
                clone["name"],
                clone["url"],
                str(clone["pid"] or "-"),
                clone["state"],
                "ok" if clone["healthy"] else "UNHEALTHY",
                clone["release"] or "-",
            )
        )
    for worker in status.get("workers", []):
        rows.append(
            (
                worker["name"],
                "-",
                str(worker["pid"] or "-"),
                worker["state"],
                "ok" if worker["healthy"] else "UNHEALTHY",
                "",
            )
        )
    warnings = [
        memory_warning(names[key], service["memory"])
        for key, service in status["services"].items()
        if (service.get("memory") or {}).get("near_limit")
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines += warnings
    if status.get("jobs"):
        lines.append("\n" + format_jobs(status["jobs"]))
    if status.get("prerender"):
        lines.append(format_prerender(status["prerender"]))
    verdict = "all healthy" if status["healthy"] else "SOMETHING IS UNHEALTHY"
    lines.append(f"\nload balancer {status['lb']}  run dir {status['run_dir']}  -> {verdict}")
    return "\n".join(lines)


def memory_figures(info: dict[str, str]) -> dict[str, Any] | None:
    """A Redis server's memory from its ``INFO memory``. ``near_limit`` from
    ``MEMORY_WARN_FRACTION`` of a limit, for a server that never evicts (``noeviction``:
    writes fail once it is full); a cache that evicts is meant to run full."""
    try:
        used, limit = int(info["used_memory"]), int(info["maxmemory"])
    except (KeyError, ValueError):
        return None
    policy = info.get("maxmemory_policy", "")
    near = policy == "noeviction" and bool(limit) and used >= MEMORY_WARN_FRACTION * limit
    return {"used_bytes": used, "max_bytes": limit or None, "policy": policy, "near_limit": near}


def memory_warning(name: str, memory: dict[str, Any]) -> str:
    """The line `status` prints for a Redis near its limit (noeviction: writes fail)."""
    used, limit = memory["used_bytes"], memory["max_bytes"]
    return (
        f"WARNING: {name} uses {used / 2**20:.0f} MiB of its {limit / 2**20:.0f} MiB limit "
        f"({used / limit:.0%}); it never evicts, so once full new sessions and order "
        "submissions are refused: raise its --maxmemory (deploy/programs.py) or find the writer"
    )


def format_jobs(jobs: dict[str, Any]) -> str:
    """One line for the special-order queue as a clone's ``/healthz`` reports it."""
    orders = jobs.get("orders") or {}
    broker = jobs.get("broker") or {}
    outbox = jobs.get("outbox") or {}
    states = " ".join(f"{k.lower()}={v}" for k, v in (orders.get("by_status") or {}).items())
    oldest = orders.get("oldest_queued_seconds")
    depth = broker.get("depth") if broker.get("ok") else "unreachable"
    return (
        f"special orders: {states or 'none'}; oldest queued "
        f"{'-' if oldest is None else f'{oldest:.0f}s'}; broker queue {depth}; "
        f"outbox unsent {outbox.get('unsent', '-')}"
    )


def prerender_section(clone_answers: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ``prerender`` section of the first clone that reports one."""
    return next(
        (
            section
            for body in clone_answers
            if isinstance(section := body.get("prerender"), dict) and "last_build" in section
        ),
        None,
    )


def format_prerender(prerender: dict[str, Any]) -> str:
    """One line: the published build and the pages waiting to be rendered again."""
    build = prerender.get("last_build")
    queue = prerender.get("rerender_queue") or {}
    oldest = queue.get("oldest_seconds")
    published = (
        "none published"
        if not build
        else f"{build['name']}: {build['pages']} pages in {build['seconds']}s"
    )
    return (
        f"prerendered pages: {published}; re-render queue {queue.get('pages', '-')} pages"
        f"{'' if oldest is None else f', oldest {oldest:.0f}s'}"
    )


def summary(topology: Topology) -> str:
    """What `up` prints at the end: where to point a browser and the services' addresses."""
    lines = [f"shop (load balancer): {topology.lb_url}/"]
    for name in topology.clone_names:
        answer = http_get(f"{topology.clone_url(name)}/healthz")
        lines.append(f"  {name}: {topology.clone_url(name)}  release {answer.body.get('release')}")
    ports = topology.ports
    lines += [
        f"postgres primary: {HOST}:{ports.pg_primary}",
        f"postgres replica: {HOST}:{ports.pg_replica}"
        + (f" (apply delay {topology.replica_delay:g}s)" if topology.replica_delay else ""),
        f"redis (sessions): {HOST}:{ports.redis}",
        f"redis (cache): {HOST}:{ports.redis_cache}",
        f"redis (Dramatiq broker): {HOST}:{ports.redis_broker}",
        *([f"mongo (catalog read model): {HOST}:{ports.mongo}"] if topology.mongo else []),
        "  (each needs its password: the URLs with them are in `make status-json`)",
        f"workers: {', '.join(topology.worker_names)}",
    ]
    return "\n".join(lines)
