"""What the cluster consists of: addresses, clone count, release, and the env clones read.
``SHOP_*_PORT`` variables move ports at `up`, which saves them in ``RUN_DIR/cluster.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from .credentials import Credentials
from .errors import ConfigurationError
from .files import write_if_changed
from .paths import Layout

HOST = "127.0.0.1"
DB_NAME = "shop"
DB_USER = "shop"
DEFAULT_CLONES = 3
DEFAULT_WORKERS = 2
RELAY = "outbox-relay"
WORKER = "worker"  # the Dramatiq workers' program; its processes are worker-1, worker-2 ...
# worker-N serves its Prometheus metrics on clone_base + WORKER_METRICS_OFFSET + N - 1,
# inside the block of ports the clones' base starts (so two checkouts never collide).
WORKER_METRICS_OFFSET = 50


# Ports field -> the environment variable that moves it.
PORT_VARIABLES = {
    "lb": "SHOP_LB_PORT",
    "clone_base": "SHOP_CLONE_BASE_PORT",
    "pg_primary": "SHOP_PG_PORT",
    "pg_replica": "SHOP_PG_REPLICA_PORT",
    "redis": "SHOP_REDIS_PORT",
    "redis_cache": "SHOP_REDIS_CACHE_PORT",
    "redis_broker": "SHOP_REDIS_BROKER_PORT",
    "mongo": "SHOP_MONGO_PORT",
}
MONGO_DATABASE = "scaleshop"
MONGO_USER = "shop"


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigurationError(f"{name}={raw!r} is not a TCP port")
    return int(raw)


@dataclass(frozen=True)
class Ports:
    """TCP ports on 127.0.0.1; clone N listens on ``clone_base + N - 1``.

    All below Linux's ephemeral range (32768-60999): there, any outgoing connection on the
    host may hold the port as its own end, and a server that starts then cannot bind it.
    """

    lb: int = 8000
    clone_base: int = 8001
    pg_primary: int = 25432
    pg_replica: int = 25433
    redis: int = 26380
    redis_cache: int = 26379
    redis_broker: int = 26381
    mongo: int = 27117  # only with the Mongo read model (`up --mongo`)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], base: Ports | None = None) -> Ports:
        """``base`` (default: the defaults) with any ``SHOP_*_PORT`` overrides applied."""
        base = base or cls()
        return cls(
            **{
                field: _port(environ, variable, getattr(base, field))
                for field, variable in PORT_VARIABLES.items()
            }
        )

    def differing(self, other: Ports) -> list[str]:
        """The fields whose port differs in ``other``."""
        return [field for field in PORT_VARIABLES if getattr(self, field) != getattr(other, field)]

    def changes(self, other: Ports) -> list[str]:
        """``VARIABLE old -> new`` for every port that differs in ``other``."""
        return [
            f"{PORT_VARIABLES[field]} {getattr(self, field)} -> {getattr(other, field)}"
            for field in self.differing(other)
        ]


@dataclass(frozen=True)
class Topology:
    """The desired cluster: what `up` converges to and `status` compares against."""

    ports: Ports
    clones: int = DEFAULT_CLONES
    release: str = "dev"
    replica_delay: float = 0.0
    workers: int = DEFAULT_WORKERS
    mongo: bool = False  # the catalog's Mongo read model and its local server

    @property
    def clone_names(self) -> list[str]:
        return [f"clone-{i}" for i in range(1, self.clones + 1)]

    @property
    def worker_processes(self) -> list[str]:
        """The Dramatiq worker processes: ``worker-1`` .. ``worker-<workers>``."""
        return [f"{WORKER}-{i}" for i in range(1, self.workers + 1)]

    @property
    def worker_names(self) -> list[str]:
        """The Dramatiq worker processes, then the outbox relay that feeds their broker."""
        return [*self.worker_processes, RELAY]

    def clone_port(self, name: str) -> int:
        """The port of ``clone-N``."""
        return self.ports.clone_base + int(name.rsplit("-", 1)[1]) - 1

    def clone_url(self, name: str) -> str:
        return f"http://{HOST}:{self.clone_port(name)}"

    def worker_metrics_port(self, name: str) -> int:
        """The port of ``worker-N``'s Prometheus exposition server."""
        return self.ports.clone_base + WORKER_METRICS_OFFSET + int(name.rsplit("-", 1)[1]) - 1

    @property
    def metrics_urls(self) -> dict[str, str]:
        """Every scrape address: each clone's ``/metrics`` and each Dramatiq worker's."""
        urls = {name: f"{self.clone_url(name)}/metrics" for name in self.clone_names}
        for name in self.worker_processes:
            urls[name] = f"http://{HOST}:{self.worker_metrics_port(name)}/metrics"
        return urls

    @property
    def lb_url(self) -> str:
        return f"http://{HOST}:{self.ports.lb}"

    def database_url(self, port: int, password: str, *, user: str = DB_USER) -> str:
        return f"postgres://{user}:{password}@{HOST}:{port}/{DB_NAME}"

    def redis_url(self, port: int, password: str) -> str:
        return f"redis://:{password}@{HOST}:{port}/0"

    def mongo_url(self, password: str) -> str:
        return f"mongodb://{MONGO_USER}:{password}@{HOST}:{self.ports.mongo}/{MONGO_DATABASE}"

    def with_overrides(
        self,
        *,
        clones: int | None,
        release: str | None,
        replica_delay: float | None,
        workers: int | None = None,
        ports: Ports | None = None,
        mongo: bool | None = None,
    ) -> Topology:
        """A copy with the given (non-None) values replaced."""
        changes: dict[str, Any] = {} if ports is None else {"ports": ports}
        for option, value in (("clones", clones), ("workers", workers)):
            if value is not None:
                if not 1 <= value <= WORKER_METRICS_OFFSET:
                    raise ConfigurationError(
                        f"--{option} must be between 1 and {WORKER_METRICS_OFFSET}"
                    )
                changes[option] = value
        if release is not None:
            changes["release"] = release
        if mongo is not None:
            changes["mongo"] = mongo
        if replica_delay is not None:
            if replica_delay < 0:
                raise ConfigurationError("--replica-delay must not be negative")
            changes["replica_delay"] = replica_delay
        return replace(self, **changes)


def cluster_env(topology: Topology, layout: Layout, credentials: Credentials) -> dict[str, str]:
    """The variables every app process gets; also written to ``RUN_DIR/cluster.env``."""
    ports = topology.ports
    return {
        "DJANGO_SECRET_KEY": credentials.secret_key,
        "DATABASE_URL": topology.database_url(ports.pg_primary, credentials.shop),
        "REPLICA_DATABASE_URL": topology.database_url(ports.pg_replica, credentials.shop),
        "REDIS_URL": topology.redis_url(ports.redis, credentials.redis),
        "REDIS_CACHE_URL": topology.redis_url(ports.redis_cache, credentials.redis_cache),
        # The Dramatiq broker has its own Redis: stopping it (a fault drill) leaves
        # sessions alone, and its keys never compete with carts for memory.
        "DRAMATIQ_BROKER_URL": topology.redis_url(ports.redis_broker, credentials.redis_broker),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(layout.mail_dir),
        "DJANGO_MEDIA_ROOT": str(layout.media_root),
        "DJANGO_STATIC_ROOT": str(layout.static_root),
        "PRERENDER_ROOT": str(layout.prerender_root),
        "SHOP_LB_URL": topology.lb_url,
        # The admin's Scaling page asks each clone's /healthz at these addresses.
        "SHOP_CLONE_URLS": ",".join(topology.clone_url(name) for name in topology.clone_names),
        "SHOP_RUN_DIR": str(layout.run_dir),
    } | (
        {"CATALOG_READ_MODEL": "mongo", "MONGO_URL": topology.mongo_url(credentials.mongo)}
        if topology.mongo
        else {}
    )


def render_env_file(variables: Mapping[str, str]) -> str:
    """KEY=VALUE lines as read by django-environ's ``read_env`` (values have no newlines)."""
    header = "# Written by `python -m deploy up`: the local cluster's addresses and secrets.\n"
    return header + "".join(f"{key}={value}\n" for key, value in variables.items())


def load_topology(layout: Layout, environ: Mapping[str, str] | None = None) -> Topology:
    """The topology saved by the last `up`/`rollout`, or the defaults if there is none.

    The ports are the saved ones: ``SHOP_*_PORT`` variables apply at `up` only
    (`ignored_port_variables` names any that disagree). Without saved ports (a fresh
    RUN_DIR, or one from a version that did not save them) they come from ``environ``.
    """
    environ = os.environ if environ is None else environ
    try:
        saved = json.loads(layout.state_file.read_text())
    except (OSError, ValueError):
        saved = {}
    if isinstance(saved.get("ports"), dict):
        known = {k: int(v) for k, v in saved["ports"].items() if k in PORT_VARIABLES}
        ports = Ports(**known)
    else:
        ports = Ports.from_env(environ)
    return Topology(
        ports=ports,
        clones=int(saved.get("clones", DEFAULT_CLONES)),
        release=str(saved.get("release", "dev")),
        replica_delay=float(saved.get("replica_delay", 0.0)),
        workers=int(saved.get("workers", DEFAULT_WORKERS)),
        mongo=bool(saved.get("mongo", False)),
    )


def ignored_port_variables(topology: Topology, environ: Mapping[str, str]) -> list[str]:
    """A note for each ``SHOP_*_PORT`` in ``environ`` that differs from the saved ports."""
    wanted = Ports.from_env(environ, topology.ports)
    return [
        f"{PORT_VARIABLES[field]}={getattr(wanted, field)} ignored: the cluster in this "
        f"RUN_DIR uses {getattr(topology.ports, field)} (ports change only at `up`)"
        for field in topology.ports.differing(wanted)
    ]


def save_topology(layout: Layout, topology: Topology) -> None:
    """Remember ports, clone and worker counts, release and replica delay for later commands."""
    write_if_changed(layout.state_file, json.dumps(asdict(topology), indent=2) + "\n")
