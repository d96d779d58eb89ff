"""Locating the machine's binaries: PostgreSQL, redis-server and nginx."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError

APT_HINT = "install it with: apt-get install -y postgresql redis-server nginx-light"


def _pg_bindir() -> Path:
    """``PG_BINDIR`` if set, else the newest ``/usr/lib/postgresql/*/bin``, else PATH."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1]
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ConfigurationError(f"PostgreSQL server binaries (initdb) not found; {APT_HINT}")


def _which(name: str, env_var: str) -> Path:
    found = os.environ.get(env_var) or shutil.which(
        name, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin"
    )
    if not found:
        raise ConfigurationError(f"{name} not found (or set {env_var}); {APT_HINT}")
    return Path(found)


@dataclass(frozen=True)
class Tools:
    """Absolute paths of the external programs the cluster runs."""

    pg_bin: Path
    redis_server: Path
    nginx: Path

    @classmethod
    def discover(cls) -> Tools:
        """Find every binary now, so a missing package is reported before anything starts."""
        pg_bin = _pg_bindir()
        for name in ("postgres", "initdb", "pg_basebackup", "pg_isready", "psql"):
            if not (pg_bin / name).exists() and not shutil.which(name):
                raise ConfigurationError(f"{name} not found in {pg_bin}; {APT_HINT}")
        return cls(
            pg_bin=pg_bin,
            redis_server=_which("redis-server", "REDIS_SERVER"),
            nginx=_which("nginx", "NGINX"),
        )

    def pg(self, name: str) -> Path:
        """A PostgreSQL program; client tools may live on PATH instead of the server bindir."""
        candidate = self.pg_bin / name
        if candidate.exists():
            return candidate
        return Path(shutil.which(name) or candidate)
