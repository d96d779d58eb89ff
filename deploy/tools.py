"""Locating the machine's binaries: PostgreSQL, redis-server and nginx."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError
from .paths import Layout

GIT = "/usr/bin/git"
APT_HINT = "install it with: apt-get install -y postgresql redis-server nginx-light"


def pg_bindir(
    environ: Mapping[str, str],
    data_dir: Path | None = None,
    lib: Path = Path("/usr/lib/postgresql"),
) -> Path:
    """Where the PostgreSQL server binaries are.

    ``PG_BINDIR`` if set; else, for an existing data directory, the binaries of the major
    version that made it (its ``PG_VERSION``: a newer server refuses an older directory);
    else the newest ``<lib>/*/bin``; else PATH.
    """
    if environ.get("PG_BINDIR"):
        return Path(environ["PG_BINDIR"])
    version_file = data_dir / "PG_VERSION" if data_dir is not None else None
    if version_file is not None and version_file.exists():
        version = version_file.read_text().strip()
        bindir = lib / version / "bin"
        if not (bindir / "postgres").exists():
            raise ConfigurationError(
                f"{data_dir} was made by PostgreSQL {version}, but {bindir}/postgres is "
                f"missing: install it (apt-get install -y postgresql-{version}), set "
                "PG_BINDIR to its bin directory, or start afresh with `python -m deploy "
                "down --purge`"
            )
        return bindir
    versions = sorted(
        lib.glob("*/bin"),
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
    def discover(cls, layout: Layout | None = None) -> Tools:
        """Find every binary now, so a missing package is reported before anything starts.

        With ``layout``, PostgreSQL is the version of the cluster's existing data directory.
        """
        pg_bin = pg_bindir(os.environ, layout.pg_data("primary") if layout else None)
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
