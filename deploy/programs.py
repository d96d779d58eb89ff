"""The cluster's processes as data: one `Program` per supervisor program, each with its probe.

``app`` programs run the release's code with one environment: the gunicorn clones
(``role="clone"``) and the background ``role="worker"`` programs (Dramatiq, outbox relay).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from .credentials import load_credentials
from .files import fill_template, write_if_changed
from .health import http_get, pg_ready, redis_ping
from .mongo import mongo_ping, server_command
from .paths import Layout
from .postgres import POSTGRES_USER, in_recovery
from .proc import AS_ROOT
from .runtime import app_runtime
from .supervisord import Supervisor
from .tools import Tools
from .topology import (
    HOST,
    PORT_VARIABLES,
    RELAY,
    WORKER,
    WORKER_METRICS_OFFSET,
    Topology,
    cluster_env,
)

TEMPLATE = Path(__file__).with_name("supervisor") / "program.conf.tmpl"
# Start order: data services, then the replica (it streams from the primary), then the
# release phase runs, then app processes, then the load balancer in front of them.
TIERS = ("data", "replica", "app", "edge")
# The session Redis's memory limit (``noeviction``): about half a million carts.
SESSIONS_MAXMEMORY = "256mb"
# supervisor's expansion in a program of several processes (numprocs): 1, 2, ...
PROCESS_NUM = "%(process_num)d"
# Dramatiq workers: one process of a few threads each; scale with `up --workers`.
WORKER_PROCESSES = 1
WORKER_THREADS = 2
# Above the longest actor time_limit, so SIGTERM lets running jobs finish before SIGKILL.
WORKER_STOP_SECONDS = 70
# A worker listens on no port, so "started" is RUNNING: alive this long after spawn. It
# must outlast booting (measured 1.1-2.2 s; a failing actor import dies at 2.1-3.7 s), or
# a worker that dies at import counts as started and crash-loops behind a successful `up`.
WORKER_STARTSECS = 8


@dataclass(frozen=True)
class Program:
    """A supervisor program plus what the cluster tool needs to know about it."""

    name: str
    command: list[str]
    tier: str
    probe: Callable[[], bool]
    address: str
    port: int | None  # None: the program listens on no port (workers)
    port_variable: str  # the environment variable that moves ``port``
    role: str = "service"  # "clone" (behind nginx), "worker" (background), "service"
    directory: Path | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    user: str | None = None
    stopsignal: str = "TERM"
    stopwaitsecs: int = 30
    startsecs: int = 1  # supervisor: up this long after spawn = started; an earlier exit failed
    startup_timeout: float = 60.0
    numprocs: int = 1  # above 1: processes ``<name>-1`` .. ``<name>-<numprocs>``

    @property
    def processes(self) -> list[str]:
        """The names supervisor gives this program's processes."""
        if self.numprocs == 1:
            return [self.name]
        return [f"{self.name}-{n}" for n in range(1, self.numprocs + 1)]


def app_env(topology: Topology, layout: Layout, clone: str) -> dict[str, str]:
    """Environment of an app process (clone or worker) of the current release."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "SHOP_CLONE": clone,
        # Clones refuse local state (config/checks.py); media is one directory on this host.
        "SHOP_CLUSTER_MODE": "true",
        "DJANGO_MEDIA_ROOT_IS_SHARED": "true",
        "PYTHONUNBUFFERED": "1",
        **cluster_env(topology, layout, load_credentials(layout)),
    }


def metrics_env(layout: Layout, name: str) -> dict[str, str]:
    """Where the process shares its Prometheus counters (emptied at its start); Dramatiq's
    middleware reads the same directory from its own variable."""
    directory = str(layout.metrics_dir / name)
    return {"PROMETHEUS_MULTIPROC_DIR": directory, "dramatiq_prom_db": directory}


def all_running(layout: Layout, names: list[str]) -> bool:
    """A worker listens on no port: healthy is supervisor's RUNNING (alive past startsecs)."""
    supervisor = Supervisor(layout)
    return all(supervisor.running(name) for name in names)


def _worker(
    topology: Topology,
    layout: Layout,
    name: str,
    command: list[str],
    environment: Mapping[str, str] | None = None,
) -> Program:
    """A background program: the outbox relay, or the Dramatiq workers (``name`` a pattern)."""
    workers = name != RELAY
    processes = topology.worker_processes if workers else [name]
    return Program(
        name=WORKER if workers else name,
        command=command,
        tier="app",
        role="worker",
        probe=partial(all_running, layout, processes),
        address="-",
        port=None,
        port_variable="",
        directory=None if workers else layout.running_code(name),
        environment={**app_env(topology, layout, name), **(environment or {})},
        user=app_runtime(layout, topology.release).user,
        stopwaitsecs=WORKER_STOP_SECONDS,
        startsecs=WORKER_STARTSECS,
        startup_timeout=WORKER_STARTSECS + 40.0,
        numprocs=len(processes),
    )


def worker_programs(topology: Topology, layout: Layout) -> list[Program]:
    """The Dramatiq workers (one program of ``topology.workers`` processes), then the relay.

    supervisor expands ``%(process_num)d`` in the command and environment but not in the
    directory, and cannot add: a shell enters ``running/worker-N`` and sets the metrics port.
    """
    runtime = app_runtime(layout, topology.release)
    name = f"{WORKER}-{PROCESS_NUM}"
    port = f"$(({topology.ports.clone_base + WORKER_METRICS_OFFSET - 1} + {PROCESS_NUM}))"
    script = (
        f"cd {shlex.quote(str(layout.running_dir))}/{name} && "
        f'export dramatiq_prom_port={port} && exec "$@"'
    )
    options = ["--processes", str(WORKER_PROCESSES), "--threads", str(WORKER_THREADS)]
    command = ["/bin/sh", "-c", script, WORKER, str(runtime.python), "manage.py", "run_worker"]
    # Dramatiq's exposition server: on this host only.
    environment = metrics_env(layout, name) | {"dramatiq_prom_host": HOST}
    relay = [*runtime.manage(layout.running_code(RELAY)), "outbox_relay"]
    return [
        _worker(topology, layout, name, [*command, *options], environment),
        _worker(topology, layout, RELAY, relay),
    ]


def _postgres(topology: Topology, layout: Layout, tools: Tools, node: str) -> Program:
    port = topology.ports.pg_primary if node == "primary" else topology.ports.pg_replica
    ready = partial(pg_ready, tools.pg("pg_isready"), HOST, port)
    standby = partial(in_recovery, layout, tools, port)
    return Program(
        name=f"postgres-{node}",
        command=[
            *(str(tools.pg("postgres")), "-D", str(layout.pg_data(node)), "-p", str(port)),
            *("-c", f"listen_addresses={HOST}"),
            *("-c", f"unix_socket_directories={layout.pg_socket_dir}"),
        ],
        tier="data" if node == "primary" else "replica",
        probe=(lambda: ready() and standby()) if node == "replica" else ready,
        address=f"{HOST}:{port}",
        port=port,
        port_variable="SHOP_PG_PORT" if node == "primary" else "SHOP_PG_REPLICA_PORT",
        directory=layout.pg_dir,
        user=POSTGRES_USER if AS_ROOT else None,
        stopsignal="INT",  # "fast" shutdown; TERM would wait for pooled app connections
    )


# Each Redis: its Ports field and its options. Sessions and the order form's counters must
# never silently drop keys: bounded (`status` warns from 80%), writes fail once full. The
# Dramatiq broker: queued jobs are data too; its own process, so a broker outage leaves
# sessions alone. The cache: bounded, evicts least recently used keys, nothing on disk.
REDIS_SERVERS = {
    "redis": (
        "redis",
        f"--appendonly yes --maxmemory {SESSIONS_MAXMEMORY} --maxmemory-policy noeviction",
    ),
    "redis-broker": ("redis_broker", "--appendonly yes --maxmemory-policy noeviction"),
    "redis-cache": (
        "redis_cache",
        "--maxmemory 256mb --maxmemory-policy allkeys-lru --appendonly no --save ''",
    ),
}


def _redis(topology: Topology, layout: Layout, tools: Tools, name: str) -> Program:
    field_name, options = REDIS_SERVERS[name]
    port = getattr(topology.ports, field_name)
    return Program(
        name=name,
        command=[
            str(tools.redis_server),
            str(layout.redis_conf(name)),  # its password: never on a command line
            *("--bind", HOST, "--port", str(port), "--daemonize", "no"),
            *("--dir", str(layout.redis_dir)),
            *("--dbfilename", f"{name}.rdb", "--appendfilename", f"{name}.aof"),
            *shlex.split(options),
        ],
        tier="data",
        probe=partial(redis_ping, HOST, port, load_credentials(layout).redis_password(name)),
        address=f"{HOST}:{port}",
        port=port,
        port_variable=PORT_VARIABLES[field_name],
        user=app_runtime(layout, topology.release).user,
        startup_timeout=20.0,
    )


def _clone(topology: Topology, layout: Layout, name: str) -> Program:
    runtime = app_runtime(layout, topology.release)
    # Paths through the clone's link, never a release's own: on SIGHUP gunicorn reads its
    # config and changes directory again, so new workers load the link's release by then.
    code = layout.running_code(name)
    return Program(
        name=name,
        command=[
            *(str(runtime.venv_bin / "gunicorn"), "config.wsgi", "--chdir", str(code)),
            *("-c", str(code / "deploy" / "gunicorn.conf.py")),
            *("--bind", f"{HOST}:{topology.clone_port(name)}"),
        ],
        tier="app",
        role="clone",
        probe=lambda: http_get(f"{topology.clone_url(name)}/healthz").ok,
        address=topology.clone_url(name),
        port=topology.clone_port(name),
        port_variable="SHOP_CLONE_BASE_PORT",
        directory=code,
        environment=app_env(topology, layout, name) | metrics_env(layout, name),
        user=runtime.user,
        stopwaitsecs=40,  # above gunicorn's graceful_timeout: in-flight requests finish
    )


def _nginx(topology: Topology, layout: Layout, tools: Tools) -> Program:
    return Program(
        name="nginx",
        command=[str(tools.nginx), "-p", str(layout.nginx_dir), "-c", str(layout.nginx_conf)]
        + ["-e", "stderr"],
        tier="edge",
        probe=lambda: http_get(f"{topology.lb_url}/_lb/health").ok,
        address=topology.lb_url,
        port=topology.ports.lb,
        port_variable="SHOP_LB_PORT",
        stopsignal="QUIT",  # graceful: finish in-flight requests
        startup_timeout=20.0,
    )


def mongo_program(topology: Topology, layout: Layout) -> Program:
    """The read model's local server (`up --mongo`): as the app user, loopback only."""
    runtime = app_runtime(layout, topology.release)
    port = topology.ports.mongo
    return Program(
        name="mongo",
        command=server_command(runtime, layout, port),
        tier="data",
        probe=partial(mongo_ping, topology.mongo_url(load_credentials(layout).mongo)),
        address=f"{HOST}:{port}",
        port=port,
        port_variable="SHOP_MONGO_PORT",
        directory=layout.mongo_dir,
        user=runtime.user,
        startup_timeout=30.0,
    )


def cluster_programs(topology: Topology, layout: Layout, tools: Tools) -> list[Program]:
    """Every program of the desired cluster, in start order within each tier."""
    return [
        *(_postgres(topology, layout, tools, node) for node in ("primary", "replica")),
        *(_redis(topology, layout, tools, name) for name in REDIS_SERVERS),
        *([mongo_program(topology, layout)] if topology.mongo else []),
        *(_clone(topology, layout, name) for name in topology.clone_names),
        *worker_programs(topology, layout),
        _nginx(topology, layout, tools),
    ]


def _quote(value: str) -> str:
    """Escape for supervisor's parser (``%`` starts an expansion), but ``PROCESS_NUM``."""
    return value.replace("%", "%%").replace(f"%{PROCESS_NUM}", PROCESS_NUM)


def render_program(program: Program, logs: Path) -> str:
    """The ``[program:x]`` section for one program."""
    environment = ",".join(f'{key}="{_quote(value)}"' for key, value in program.environment.items())
    options = [
        *([f"directory={_quote(str(program.directory))}"] if program.directory else []),
        *([f"user={program.user}"] if program.user else []),
        *([f"environment={environment}"] if environment else []),
    ]
    several = program.numprocs > 1
    return fill_template(
        TEMPLATE,
        {
            "program": program.name,
            "autostart": "false",
            "command": _quote(shlex.join(program.command)),
            "process_name": f"%(program_name)s-{PROCESS_NUM}" if several else program.name,
            "numprocs": str(program.numprocs),
            "priority": str(100 * (TIERS.index(program.tier) + 1)),
            "startsecs": str(program.startsecs),
            "stopsignal": program.stopsignal,
            "stopwaitsecs": str(program.stopwaitsecs),
            "logs": str(logs),
            "options": "\n".join(options),
        },
    )


def write_program_files(programs: list[Program], layout: Layout) -> None:
    """One ``programs/<name>.conf`` per program; files of programs no longer wanted go."""
    wanted = {f"{p.name}.conf" for p in programs}
    layout.programs_dir.mkdir(parents=True, exist_ok=True)
    for stale in layout.programs_dir.glob("*.conf"):
        if stale.name not in wanted:
            stale.unlink()
    for program in programs:
        write_if_changed(  # 600: an app program's environment holds the passwords
            layout.programs_dir / f"{program.name}.conf",
            render_program(program, layout.logs),
            0o600,
        )
