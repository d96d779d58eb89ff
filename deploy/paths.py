"""Where the cluster lives on disk: resolving RUN_DIR and naming every path inside it.

The trap (DESIGN.md): the postgres user and nginx's worker user must traverse every parent
directory of the data. A checkout under a private home (``/root`` is mode 700) or in a CI
folder we do not choose breaks that, so RUN_DIR falls back to a world-traversable directory
under the system temp dir, and ``<checkout>/.run`` becomes a symlink to it so that
``<checkout>/.run/cluster.env`` (read by Django settings) works in every case.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError

CHECKOUT = Path(__file__).resolve().parent.parent
MARKER = ".scaleshop-run-dir"  # written into RUN_DIR; `down --purge` refuses to delete without it


def is_world_traversable(path: Path) -> bool:
    """True when ``path`` and every parent directory grant search permission to others."""
    for directory in (path, *path.parents):
        try:
            mode = directory.stat().st_mode
        except OSError:
            return False
        if not mode & stat.S_IXOTH:
            return False
    return True


def fallback_run_dir(checkout: Path, temp_root: Path | None = None) -> Path:
    """A world-traversable RUN_DIR named after the checkout, stable across invocations."""
    digest = hashlib.sha256(str(checkout).encode()).hexdigest()[:8]
    return (temp_root or Path(tempfile.gettempdir())) / f"scaleshop-{digest}"


def resolve_run_dir(
    checkout: Path, environ: Mapping[str, str], temp_root: Path | None = None
) -> Path:
    """Pick RUN_DIR for ``checkout``; pure apart from reading the file system.

    Order: the ``RUN_DIR`` variable; the target of an existing ``<checkout>/.run`` symlink
    (so `status` and `down` find a cluster that `up` placed elsewhere); ``<checkout>/.run``
    when every parent is traversable by others; else the temp-dir fallback.
    """
    if environ.get("RUN_DIR"):
        return Path(environ["RUN_DIR"]).expanduser().absolute()
    link = checkout / ".run"
    if link.is_symlink():
        target = Path(os.readlink(link))
        return target if target.is_absolute() else checkout / target
    if is_world_traversable(checkout):
        return link
    return fallback_run_dir(checkout, temp_root)


def link_checkout_run(checkout: Path, run_dir: Path) -> None:
    """Make ``<checkout>/.run`` point at ``run_dir`` when RUN_DIR lives elsewhere.

    An existing symlink is replaced; an empty directory is removed; a non-empty real
    directory is refused, because it may hold another cluster's data.
    """
    link = checkout / ".run"
    if link == run_dir:
        return
    if link.is_symlink():
        if Path(os.readlink(link)) == run_dir:
            return
        link.unlink()
    elif link.is_dir():
        if any(link.iterdir()):
            raise ConfigurationError(
                f"{link} is a directory with data, but RUN_DIR is {run_dir}; "
                f"move or delete {link} (or unset RUN_DIR) and try again"
            )
        link.rmdir()
    link.symlink_to(run_dir, target_is_directory=True)


def prepare_run_dir(run_dir: Path) -> None:
    """Create RUN_DIR (mode 755, so service users can traverse it) and claim it with a marker.

    Refuses a pre-existing directory owned by someone else: under a shared temp dir another
    user could otherwise plant files the cluster would trust.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    if run_dir.stat().st_uid != os.geteuid():
        raise ConfigurationError(f"RUN_DIR {run_dir} exists but belongs to another user")
    run_dir.chmod(0o755)
    (run_dir / MARKER).touch()


@dataclass(frozen=True)
class Layout:
    """Every path the cluster uses; nothing outside ``run_dir`` is written at run time."""

    checkout: Path
    run_dir: Path

    @classmethod
    def discover(cls, environ: Mapping[str, str] | None = None) -> Layout:
        """The layout for this checkout, resolving RUN_DIR from ``environ`` (os.environ)."""
        environ = os.environ if environ is None else environ
        return cls(checkout=CHECKOUT, run_dir=resolve_run_dir(CHECKOUT, environ))

    @property
    def venv_bin(self) -> Path:
        return Path(os.environ.get("SHOP_VENV", self.checkout / ".venv")) / "bin"

    @property
    def logs(self) -> Path:
        return self.run_dir / "logs"

    @property
    def supervisord_conf(self) -> Path:
        return self.run_dir / "supervisord.conf"

    @property
    def supervisor_socket(self) -> Path:
        return self.run_dir / "supervisor.sock"

    @property
    def supervisord_pidfile(self) -> Path:
        return self.run_dir / "supervisord.pid"

    @property
    def programs_dir(self) -> Path:
        return self.run_dir / "programs"

    @property
    def pg_dir(self) -> Path:
        return self.run_dir / "pg"

    @property
    def pg_socket_dir(self) -> Path:
        return self.pg_dir / "sock"

    def pg_data(self, node: str) -> Path:
        """Data directory of the postgres ``node`` ("primary" or "replica")."""
        return self.pg_dir / node

    @property
    def redis_dir(self) -> Path:
        return self.run_dir / "redis"

    @property
    def nginx_dir(self) -> Path:
        return self.run_dir / "nginx"

    @property
    def nginx_conf(self) -> Path:
        return self.nginx_dir / "nginx.conf"

    @property
    def static_root(self) -> Path:
        return self.run_dir / "static"

    @property
    def media_root(self) -> Path:
        return self.run_dir / "media"

    @property
    def mail_dir(self) -> Path:
        """Emails of the local cluster, one file per message (Django's file backend)."""
        return self.run_dir / "mail"

    @property
    def prerender_root(self) -> Path:
        return self.run_dir / "prerendered"

    @property
    def cluster_env(self) -> Path:
        return self.run_dir / "cluster.env"

    @property
    def state_file(self) -> Path:
        return self.run_dir / "cluster.json"
