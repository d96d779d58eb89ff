"""Where the cluster lives on disk: RUN_DIR (``<checkout>/.run``, or as root a directory
every service user can traverse, ``.run`` linking to it) and every path inside it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError

CHECKOUT = Path(__file__).resolve().parent.parent
MARKER = ".scaleshop-run-dir"  # written into RUN_DIR; `down --purge` refuses to delete without it
# Where a root-run cluster goes when the checkout is not traversable: the first of these
# that every user can traverse. /var/lib survives reboots; the temp dir is the last resort.
FALLBACK_ROOTS = (Path("/var/lib"), Path(tempfile.gettempdir()))


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


def fallback_run_dir(checkout: Path, root: Path) -> Path:
    """A RUN_DIR under ``root`` named after the checkout, stable across invocations."""
    digest = hashlib.sha256(str(checkout).encode()).hexdigest()[:8]
    return root / f"scaleshop-{digest}"


def resolve_run_dir(
    checkout: Path,
    environ: Mapping[str, str],
    *,
    as_root: bool | None = None,
    fallback_roots: Sequence[Path] = FALLBACK_ROOTS,
) -> Path:
    """Pick RUN_DIR for ``checkout``; pure apart from reading the file system.

    Order: the ``RUN_DIR`` variable; the target of an existing ``<checkout>/.run`` symlink
    (so `status` and `down` find a cluster that `up` placed elsewhere); ``<checkout>/.run``
    when we are not root (every process runs as us) or every parent is traversable by
    others; else the first world-traversable of ``fallback_roots``.
    """
    if environ.get("RUN_DIR"):
        return Path(environ["RUN_DIR"]).expanduser().absolute()
    link = checkout / ".run"
    if link.is_symlink():
        target = Path(os.readlink(link))
        return target if target.is_absolute() else checkout / target
    if as_root is None:
        as_root = os.geteuid() == 0
    if not as_root or is_world_traversable(checkout):
        return link
    for root in fallback_roots:
        if is_world_traversable(root):
            return fallback_run_dir(checkout, root)
    raise ConfigurationError(
        f"the postgres and www-data users cannot reach {checkout} (a parent directory lacks "
        f"o+x) and none of {', '.join(map(str, fallback_roots))} is traversable either; "
        "set RUN_DIR to a directory every user can traverse"
    )


def link_checkout_run(checkout: Path, run_dir: Path, *, explicit: bool = False) -> str:
    """Make ``<checkout>/.run`` point at ``run_dir`` when RUN_DIR lives elsewhere.

    An existing symlink is replaced; an empty directory is removed. A non-empty real
    directory may hold another cluster's data: it is refused, unless RUN_DIR was set
    explicitly (``explicit``), when it stays and the returned note says so ("" otherwise).
    """
    link = checkout / ".run"
    if link == run_dir:
        return ""
    if link.is_symlink():
        if Path(os.readlink(link)) == run_dir:
            return ""
        link.unlink()
    elif link.is_dir():
        if any(link.iterdir()):
            if explicit:
                return (
                    f"{link} holds another cluster and stays: commands and manage.py run "
                    f"without RUN_DIR={run_dir} reach that one"
                )
            raise ConfigurationError(
                f"{link} is a directory with data, but RUN_DIR is {run_dir}; "
                f"move or delete {link} (or unset RUN_DIR) and try again"
            )
        link.rmdir()
    link.symlink_to(run_dir, target_is_directory=True)
    return ""


def prepare_run_dir(run_dir: Path) -> None:
    """Create RUN_DIR (mode 755, so service users can traverse it) and claim it with a marker.

    An existing directory is adopted only when it is ours, not a symlink, and either empty
    or already marked; its mode is left alone (``RUN_DIR=/tmp`` must keep its sticky bit,
    and must never be deleted by `down --purge`). As root it must be traversable by others.
    """
    missing = [d for d in (*reversed(run_dir.parents), run_dir) if not os.path.lexists(d)]
    for directory in missing:
        directory.mkdir()
        directory.chmod(0o755)  # ours: the umask must not narrow it
    if run_dir not in missing:
        _check_adoptable(run_dir)
    if os.geteuid() == 0 and not is_world_traversable(run_dir):
        raise ConfigurationError(
            f"RUN_DIR {run_dir}: the postgres and www-data users cannot traverse it or a "
            "parent directory (needs o+x on each); choose another RUN_DIR"
        )
    (run_dir / MARKER).touch()


def _check_adoptable(run_dir: Path) -> None:
    info = run_dir.lstat()
    if stat.S_ISLNK(info.st_mode):
        raise ConfigurationError(
            f"RUN_DIR {run_dir} is a symlink; set RUN_DIR to the real directory"
        )
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigurationError(f"RUN_DIR {run_dir} exists and is not a directory")
    if info.st_uid != os.geteuid():
        raise ConfigurationError(f"RUN_DIR {run_dir} exists but belongs to another user")
    if not (run_dir / MARKER).exists() and any(run_dir.iterdir()):
        raise ConfigurationError(
            f"RUN_DIR {run_dir} is not empty and is no cluster directory (no {MARKER}); "
            "choose a new or empty directory"
        )


class _Under:
    """A path attribute of `Layout`: ``parent`` (another attribute) / ``name``."""

    def __init__(self, parent: str, name: str) -> None:
        self.parent, self.name = parent, name

    def __get__(self, layout: object, owner: type | None = None) -> Path:
        return Path(getattr(layout, self.parent)) / self.name


@dataclass(frozen=True)
class Layout:
    """Every path the cluster uses; nothing outside ``run_dir`` is written at run time."""

    checkout: Path
    run_dir: Path
    explicit: bool = False  # RUN_DIR came from the environment, not from the checkout

    logs = _Under("run_dir", "logs")
    supervisord_conf = _Under("run_dir", "supervisord.conf")
    supervisor_socket = _Under("run_dir", "supervisor.sock")
    supervisord_pidfile = _Under("run_dir", "supervisord.pid")
    programs_dir = _Under("run_dir", "programs")
    pg_dir = _Under("run_dir", "pg")
    pg_socket_dir = _Under("pg_dir", "sock")
    redis_dir = _Under("run_dir", "redis")
    mongo_dir = _Under("run_dir", "mongo")  # the local Mongo server's data (`up --mongo`)
    nginx_dir = _Under("run_dir", "nginx")
    nginx_conf = _Under("nginx_dir", "nginx.conf")
    static_root = _Under("run_dir", "static")
    media_root = _Under("run_dir", "media")
    mail_dir = _Under("run_dir", "mail")  # one file per message (Django's file backend)
    metrics_dir = _Under("run_dir", "metrics")  # Prometheus files, a directory per process
    prerender_root = _Under("run_dir", "prerendered")
    cluster_env = _Under("run_dir", "cluster.env")  # the app tier's settings and passwords
    credentials_file = _Under("run_dir", "credentials.json")
    app_dir = _Under("run_dir", "app")  # as root: the app user's venvs
    venvs_dir = _Under("app_dir", "venvs")
    releases_dir = _Under("run_dir", "releases")
    running_dir = _Under("run_dir", "running")
    state_file = _Under("run_dir", "cluster.json")
    lock_file = _Under("run_dir", "deploy.lock")

    @classmethod
    def discover(cls, environ: Mapping[str, str] | None = None) -> Layout:
        """The layout for this checkout, resolving RUN_DIR from ``environ`` (os.environ)."""
        environ = os.environ if environ is None else environ
        return cls(
            checkout=CHECKOUT,
            run_dir=resolve_run_dir(CHECKOUT, environ),
            explicit=bool(environ.get("RUN_DIR")),
        )

    @property
    def venv_bin(self) -> Path:
        return Path(os.environ.get("SHOP_VENV", self.checkout / ".venv")) / "bin"

    def pg_data(self, node: str) -> Path:
        """Data directory of the postgres ``node`` ("primary" or "replica")."""
        return self.pg_dir / node

    def redis_conf(self, server: str) -> Path:
        """The Redis server's config file: its password, readable by the app user only."""
        return self.redis_dir / f"{server}.conf"

    def release_dir(self, name: str) -> Path:
        """The immutable copy of release ``name``'s code."""
        return self.releases_dir / name

    def running_code(self, program: str) -> Path:
        """The code ``program`` runs: a symlink to one release, swapped by a rollout."""
        return self.running_dir / program
