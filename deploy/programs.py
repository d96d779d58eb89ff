"""The cluster's processes as data: one `Program` per supervisor program.

Adding a process kind is one entry in `cluster_programs`. Each program carries its own
health probe, so `up`, `status` and `rollout` treat every process alike. Programs of the
``app`` tier run the release's code with the same ``app_env``: the gunicorn clones
(``role="clone"``, behind nginx) and the background processes (``role="worker"``): the
Dramatiq workers and the outbox relay that feeds their broker.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from .credentials import load_credentials
from .files import write_if_changed
from .health import http_get, pg_ready, redis_ping
from .mongo import mongo_ping, server_command
from .paths import Layout
from .postgres import POSTGRES_USER, in_recovery
from .proc import AS_ROOT
from .runtime import app_runtime
from .supervisord import Supervisor
from .tools import Tools
from .topology import HOST, RELAY, Topology, cluster_env

# Start order: data services, then the replica (it streams from the primary), then the
# release phase runs, then app processes, then the load balancer in front of them.
TIERS = ("data", "replica", "app", "edge")
# The session Redis's memory limit (``noeviction``): about half a million carts.
SESSIONS_MAXMEMORY = "256mb"


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
    """Where the program's processes share their Prometheus counters (emptied at its start)."""
    return {"PROMETHEUS_MULTIPROC_DIR": str(layout.metrics_dir / name)}


def worker_metrics_env(topology: Topology, layout: Layout, name: str) -> dict[str, str]:
    """Dramatiq's Prometheus middleware: its own variables, its directory the same as ours."""
    directory = str(layout.metrics_dir / name)
    return {
        "PROMETHEUS_MULTIPROC_DIR": directory,
        "dramatiq_prom_db": directory,
        "dramatiq_prom_host": HOST,
        "dramatiq_prom_port": str(topology.worker_metrics_port(name)),
    }


def clone_healthy(url: str) -> bool:
    return http_get(f"{url}/healthz").ok


def supervised_running(layout: Layout, name: str) -> bool:
    """A worker listens on no port: healthy is supervisor's RUNNING (alive past startsecs)."""
    info = Supervisor(layout).processes().get(name)
    return info is not None and info.state == "RUNNING"


# Dramatiq workers: one process of a few threads per program; scale with `up --workers`.
WORKER_PROCESSES = 1
WORKER_THREADS = 2
# Above the longest actor time_limit, so SIGTERM lets running jobs finish before SIGKILL.
WORKER_STOP_SECONDS = 70
# A worker listens on no port, so "started" is supervisor's RUNNING: alive ``startsecs``
# after spawn. That must outlast booting, or a worker that dies at import counts as started
# and crash-loops forever behind a successful `up`. Measured on a 2-core machine:
# `rundramatiq` is ready 1.1 s after spawn when idle, 2.2 s during `up`; a failing actor
# import ends it 2.1-3.7 s after spawn (Django setup about 1.1 s, then Dramatiq's worker
# process imports the actors); the outbox relay boots in about 1.1 s. 8 s keeps a 2x
# margin; `up` waits it once (workers start together), `rollout` once per worker.
WORKER_STARTSECS = 8


def worker_programs(topology: Topology, layout: Layout) -> list[Program]:
    """The Dramatiq workers and the outbox relay, with the clones' environment."""
    runtime = app_runtime(layout, topology.release)

    def manage(name: str) -> list[str]:
        return runtime.manage(layout.running_code(name))

    commands = {
        RELAY: [*manage(RELAY), "outbox_relay"],
        # django-dramatiq's `rundramatiq` (finds every app's `actors` module and execs
        # `dramatiq`), after `run_worker` has emptied the worker's metrics directory.
        **{
            name: [
                *manage(name),
                "run_worker",
                "--processes",
                str(WORKER_PROCESSES),
                "--threads",
                str(WORKER_THREADS),
            ]
            for name in topology.worker_names
            if name != RELAY
        },
    }
    return [
        Program(
            name=name,
            command=commands[name],
            tier="app",
            role="worker",
            probe=partial(supervised_running, layout, name),
            address="-",
            port=None,
            port_variable="",
            directory=layout.running_code(name),
            environment=app_env(topology, layout, name)
            | ({} if name == RELAY else worker_metrics_env(topology, layout, name)),
            user=runtime.user,
            stopwaitsecs=WORKER_STOP_SECONDS,
            startsecs=WORKER_STARTSECS,
            startup_timeout=WORKER_STARTSECS + 40.0,
        )
        for name in topology.worker_names
    ]


def cluster_programs(topology: Topology, layout: Layout, tools: Tools) -> list[Program]:
    """Every program of the desired cluster, in start order within each tier."""
    ports = topology.ports
    pg_user = POSTGRES_USER if AS_ROOT else None
    pg_isready = tools.pg("pg_isready")
    runtime = app_runtime(layout, topology.release)
    credentials = load_credentials(layout)

    def postgres(node: str, port: int, tier: str, variable: str) -> Program:
        ready = partial(pg_ready, pg_isready, HOST, port)
        standby = partial(in_recovery, layout, tools, port)
        return Program(
            name=f"postgres-{node}",
            command=[
                str(tools.pg("postgres")),
                "-D",
                str(layout.pg_data(node)),
                "-p",
                str(port),
                "-c",
                f"listen_addresses={HOST}",
                "-c",
                f"unix_socket_directories={layout.pg_socket_dir}",
            ],
            tier=tier,
            probe=(lambda: ready() and standby()) if node == "replica" else ready,
            address=f"{HOST}:{port}",
            port=port,
            port_variable=variable,
            directory=layout.pg_dir,
            user=pg_user,
            stopsignal="INT",  # "fast" shutdown; TERM would wait for pooled app connections
            startup_timeout=60.0,
        )

    def redis(name: str, port: int, variable: str, options: list[str]) -> Program:
        return Program(
            name=name,
            command=[
                str(tools.redis_server),
                str(layout.redis_conf(name)),  # its password: never on a command line
                "--bind",
                HOST,
                "--port",
                str(port),
                "--daemonize",
                "no",
                "--dir",
                str(layout.redis_dir),
                "--dbfilename",
                f"{name}.rdb",
                "--appendfilename",
                f"{name}.aof",
                *options,
            ],
            tier="data",
            probe=partial(redis_ping, HOST, port, credentials.redis_password(name)),
            address=f"{HOST}:{port}",
            port=port,
            port_variable=variable,
            user=runtime.user,
            startup_timeout=20.0,
        )

    programs = [
        postgres("primary", ports.pg_primary, "data", "SHOP_PG_PORT"),
        postgres("replica", ports.pg_replica, "replica", "SHOP_PG_REPLICA_PORT"),
        # Sessions and the order form's counters: must never silently drop keys. Bounded,
        # so a flood cannot take the host's memory: once full, writes fail loudly and
        # `status` warns from 80% on.
        redis(
            "redis",
            ports.redis,
            "SHOP_REDIS_PORT",
            [
                "--appendonly",
                "yes",
                "--maxmemory",
                SESSIONS_MAXMEMORY,
                "--maxmemory-policy",
                "noeviction",
            ],
        ),
        # The Dramatiq broker: queued jobs are data too; its own process, so a broker
        # outage (`deploy stop redis-broker`) leaves sessions alone.
        redis(
            "redis-broker",
            ports.redis_broker,
            "SHOP_REDIS_BROKER_PORT",
            ["--appendonly", "yes", "--maxmemory-policy", "noeviction"],
        ),
        # A pure cache: bounded, evicts least recently used keys, nothing on disk.
        redis(
            "redis-cache",
            ports.redis_cache,
            "SHOP_REDIS_CACHE_PORT",
            [
                "--maxmemory",
                "256mb",
                "--maxmemory-policy",
                "allkeys-lru",
                "--appendonly",
                "no",
                "--save",
                "",
            ],
        ),
    ]
    if topology.mongo:
        programs.append(mongo_program(topology, layout))
    for name in topology.clone_names:
        url = topology.clone_url(name)
        # Paths through the clone's link, never a release's own: on SIGHUP gunicorn reads
        # its config and changes directory again, so its new workers load the release the
        # link points at by then (deploy/rollout.py).
        code = layout.running_code(name)
        programs.append(
            Program(
                name=name,
                command=[
                    str(runtime.venv_bin / "gunicorn"),
                    "config.wsgi",
                    "--chdir",
                    str(code),
                    "-c",
                    str(code / "deploy" / "gunicorn.conf.py"),
                    "--bind",
                    f"{HOST}:{topology.clone_port(name)}",
                ],
                tier="app",
                role="clone",
                probe=partial(clone_healthy, url),
                address=url,
                port=topology.clone_port(name),
                port_variable="SHOP_CLONE_BASE_PORT",
                directory=code,
                environment=app_env(topology, layout, name) | metrics_env(layout, name),
                user=runtime.user,
                # Above gunicorn's graceful_timeout, so in-flight requests can finish.
                stopwaitsecs=40,
            )
        )
    programs += worker_programs(topology, layout)
    programs.append(
        Program(
            name="nginx",
            command=[
                str(tools.nginx),
                "-p",
                str(layout.nginx_dir),
                "-c",
                str(layout.nginx_conf),
                "-e",
                "stderr",
            ],
            tier="edge",
            probe=lambda: http_get(f"{topology.lb_url}/_lb/health").ok,
            address=topology.lb_url,
            port=ports.lb,
            port_variable="SHOP_LB_PORT",
            stopsignal="QUIT",  # graceful: finish in-flight requests
            startup_timeout=20.0,
        )
    )
    return programs


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


def _quote(value: str) -> str:
    """Escape for supervisor's config parser: ``%`` starts an interpolation there."""
    return value.replace("%", "%%")


def render_program(program: Program, logs: Path) -> str:
    """The ``[program:x]`` section for one program."""
    lines = [
        f"[program:{program.name}]",
        f"command={_quote(shlex.join(program.command))}",
        "autostart=false",  # `up` starts tiers in order, waiting for health in between
        # supervisord stops programs in reverse priority: nginx first, postgres last.
        f"priority={100 * (TIERS.index(program.tier) + 1)}",
        "autorestart=true",
        f"startsecs={program.startsecs}",
        "startretries=10",
        f"stopsignal={program.stopsignal}",
        f"stopwaitsecs={program.stopwaitsecs}",
        "stopasgroup=false",
        "killasgroup=true",  # a SIGKILL escalation also takes the children (gunicorn workers)
        "redirect_stderr=true",
        f"stdout_logfile={logs / (program.name + '.log')}",
        "stdout_logfile_maxbytes=10MB",
        "stdout_logfile_backups=2",
    ]
    if program.directory is not None:
        lines.append(f"directory={_quote(str(program.directory))}")
    if program.user:
        lines.append(f"user={program.user}")
    if program.environment:
        pairs = ",".join(f'{key}="{_quote(value)}"' for key, value in program.environment.items())
        lines.append(f"environment={pairs}")
    return "\n".join(lines) + "\n"


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
