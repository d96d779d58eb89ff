"""Cluster status: one snapshot of every component, as JSON and as a table; health is each
program's own probe (a clone's from its ``/healthz``, which also reports the job queue)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .credentials import Credentials, load_credentials
from .health import HttpResult, http_get, redis_info
from .paths import Layout
from .postgres import SUPERUSER
from .programs import Program, cluster_programs
from .supervisord import ProcessInfo, Supervisor, is_running
from .tools import Tools
from .topology import DB_NAME, DB_USER, HOST, Topology, load_topology

# `status` warns when a Redis with a memory limit uses this much of it.
MEMORY_WARN_FRACTION = 0.8
# The services of `status-json` and the programs they are.
SERVICES = {
    "primary": "postgres-primary",
    "replica": "postgres-replica",
    "redis": "redis",
    "redis_cache": "redis-cache",
    "redis_broker": "redis-broker",
    "nginx": "nginx",
    "mongo": "mongo",
}


def collect_status(
    layout: Layout, tools: Tools, topology: Topology | None = None
) -> dict[str, Any]:
    """A JSON-ready snapshot; ``healthy`` at the top is True only if every part is."""
    topology = topology or load_topology(layout)
    credentials = load_credentials(layout)
    programs = {p.name: p for p in cluster_programs(topology, layout, tools)}
    processes = Supervisor(layout).processes()
    answers = {n: http_get(f"{topology.clone_url(n)}/healthz") for n in topology.clone_names}
    clones = [
        {"name": name, "url": topology.clone_url(name), **_process(processes.get(name))}
        | _clone_health(answer)
        for name, answer in answers.items()
    ]
    workers = [
        {"name": name, **_process(processes.get(name)), "healthy": is_running(processes.get(name))}
        for name in topology.worker_names
    ]
    services = {
        key: _service(topology, credentials, key, programs[name])
        | _process(processes.get(name))
        | {"healthy": programs[name].probe()}
        for key, name in SERVICES.items()
        if name in programs
    }
    bodies = [answer.body for answer in answers.values()]
    return {
        "healthy": all(part["healthy"] for part in (*clones, *workers, *services.values())),
        "run_dir": str(layout.run_dir),
        "release": topology.release,
        "replica_delay": topology.replica_delay,
        "lb": topology.lb_url,
        "ports": asdict(topology.ports),
        "clones": clones,
        "workers": workers,
        "services": services,
        "jobs": next(
            (
                {"orders": b.get("orders"), **jobs}
                for b in bodies
                if isinstance(jobs := b.get("jobs"), dict)
            ),
            None,
        ),
        "prerender": prerender_section(bodies),
        # Prometheus scrape addresses (text format), reachable from this host only.
        "metrics": topology.metrics_urls,
    }


def _process(info: ProcessInfo | None) -> dict[str, Any]:
    return {"pid": info.pid if info else None, "state": info.state if info else "ABSENT"}


def _clone_health(answer: HttpResult) -> dict[str, Any]:
    """What a clone's ``/healthz`` says: its release and settings, and whether it is healthy."""
    return {
        "release": answer.body.get("release"),
        "release_dir": answer.body.get("release_dir"),
        "settings_fingerprint": answer.body.get("settings_fingerprint"),
        "healthy": answer.ok,
        "error": answer.error or None,
    }


def _service(
    topology: Topology, credentials: Credentials, key: str, program: Program
) -> dict[str, Any]:
    """A service's addresses (its URL with the password) and, for a Redis, its memory."""
    if key == "nginx":
        return {"url": topology.lb_url}
    port = program.port or 0
    if key in ("primary", "replica"):
        return {
            "host": HOST,
            "port": port,
            "dbname": DB_NAME,
            "user": DB_USER,
            "url": topology.database_url(port, credentials.shop),
            # The superuser, for maintenance (psql "$(... admin_url)").
            "admin_url": topology.database_url(port, credentials.postgres, user=SUPERUSER),
        }
    if key == "mongo":
        return {"url": topology.mongo_url(credentials.mongo), "host": HOST, "port": port}
    password = credentials.redis_password(program.name)
    return {
        "url": topology.redis_url(port, password),
        "host": HOST,
        "port": port,
        "memory": memory_figures(redis_info(HOST, port, password, "memory")),
    }


def format_table(status: dict[str, Any]) -> str:
    """The snapshot as an aligned, human-readable table."""
    rows = [("NAME", "ADDRESS", "PID", "STATE", "HEALTH", "RELEASE")]
    parts = [
        (
            SERVICES[key],
            service.get("url") if key == "nginx" else f"{HOST}:{service['port']}",
            service,
            "",
        )
        for key, service in status["services"].items()
    ]
    parts += [(c["name"], c["url"], c, c["release"] or "-") for c in status["clones"]]
    parts += [(w["name"], "-", w, "") for w in status.get("workers", [])]
    for name, address, part, release in parts:
        health = "ok" if part["healthy"] else "UNHEALTHY"
        rows.append((name, str(address), str(part["pid"] or "-"), part["state"], health, release))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines += [
        memory_warning(SERVICES[key], service["memory"])
        for key, service in status["services"].items()
        if (service.get("memory") or {}).get("near_limit")
    ]
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
