"""Who runs the app tier, and with which interpreter: as root ``APP_USER`` with a venv in
``RUN_DIR/app`` (the checkout's may be unreachable); otherwise the caller and ``.venv``.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError
from .paths import Layout, is_world_traversable
from .proc import AS_ROOT, run
from .releases import build_release, walk

APP_USER = "scaleshop"


@dataclass(frozen=True)
class Runtime:
    """The venv and the user of every app-tier process."""

    venv_bin: Path
    user: str | None  # None: the caller's own user

    @property
    def python(self) -> Path:
        return self.venv_bin / "python"

    def manage(self, code: Path) -> list[str]:
        """The start of a command line running ``manage.py`` of the release at ``code``."""
        return [str(self.python), str(code / "manage.py")]


def app_runtime(layout: Layout, release: str, *, as_root: bool = AS_ROOT) -> Runtime:
    """How the app tier runs ``release``: as root with the venv of its requirements."""
    if not as_root:
        return Runtime(venv_bin=layout.venv_bin, user=None)
    return Runtime(venv_bin=layout.venvs_dir / _venv_key(layout, release) / "bin", user=APP_USER)


def require_app_user() -> pwd.struct_passwd:
    """The app user's account; a clear error naming the fix when it is missing."""
    try:
        return pwd.getpwnam(APP_USER)
    except KeyError:
        raise ConfigurationError(
            f"running as root needs the unprivileged system user '{APP_USER}' for the app "
            "tier; `make bootstrap` creates it (deploy/create-app-user.sh)"
        ) from None


def give_to_app_user(path: Path, *, mode: int, group: str | None = None) -> None:
    """Make ``path`` (a directory the app tier writes) the app user's, with ``mode``.

    Anything inside that another user made (a cluster of an earlier version, run as root,
    or a root shell's manage.py) is handed over too, or the app could not replace it.
    """
    path.mkdir(parents=True, exist_ok=True)
    if AS_ROOT:
        user = require_app_user()
        gid = grp.getgrnam(group).gr_gid if group else user.pw_gid
        for item in (path, *walk(path)):
            try:
                if item.lstat().st_uid != user.pw_uid:
                    os.chown(item, user.pw_uid, gid, follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed meanwhile by the running app tier (e.g. a page re-render)
    path.chmod(mode)


def install_release(layout: Layout, name: str) -> Path:
    """Release ``name``'s immutable copy of the code and, as root, the venv it runs with."""
    python = _shared_interpreter() if AS_ROOT else layout.venv_bin / "python"
    release = build_release(layout, name, python)
    if AS_ROOT:
        require_app_user()
        _ensure_venv(layout, name)
    return release


# The app's requirements, and the local-only servers' (SecantusDB) that run from its venv.
REQUIREMENTS = ("requirements.txt", "requirements-local.txt")


def _venv_key(layout: Layout, release: str) -> str:
    """Names a venv by what is installed in it: the release's requirements (the
    checkout's before it is built) and the interpreter. Releases that agree share one."""
    code = layout.release_dir(release)
    if not code.is_dir():
        code = layout.checkout
    digest = hashlib.sha256(str(_shared_interpreter()).encode())
    for name in REQUIREMENTS:
        digest.update((code / name).read_bytes() if (code / name).exists() else b"")
    return digest.hexdigest()[:16]


def _ensure_venv(layout: Layout, release: str) -> None:
    """Release's venv in ``RUN_DIR/app/venvs/<key>``, made once; the programs of other
    releases keep theirs until pruned (a venv is never changed under a running process)."""
    venv = app_runtime(layout, release).venv_bin.parent
    done = venv / ".complete"
    if done.exists():
        return
    interpreter = _shared_interpreter()
    files = [layout.release_dir(release) / name for name in REQUIREMENTS]
    print(f"  making the app tier's venv ({venv}, {interpreter})", flush=True)
    layout.venvs_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    shutil.rmtree(venv, ignore_errors=True)  # a half-made one
    run([interpreter, "-m", "venv", venv], what=f"{interpreter} -m venv")
    run(
        [venv / "bin" / "pip", "install", "-q", *(arg for f in files for arg in ("-r", f))],
        what="pip install -r requirements.txt -r requirements-local.txt (app tier)",
        timeout=900,
    )
    done.touch()


def prune_venvs(layout: Layout, releases: list[str]) -> None:
    """Delete the venvs that none of ``releases`` (those kept for rollback) runs with."""
    if not AS_ROOT or not layout.venvs_dir.is_dir():
        return
    needed = {_venv_key(layout, release) for release in releases}
    for venv in layout.venvs_dir.iterdir():
        if venv.name not in needed:
            shutil.rmtree(venv, ignore_errors=True)
    # Clusters made before releases had one venv, changed in place, and a copy of the code.
    for old in ("venv", "code"):
        shutil.rmtree(layout.app_dir / old, ignore_errors=True)


def _shared_interpreter() -> Path:
    """This Python, or the same version at a system path, wherever every user can run it."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = (
        Path(os.path.realpath(sys.executable)),
        Path("/usr/bin") / version,
        Path("/usr/local/bin") / version,
    )
    for candidate in candidates:
        if (
            candidate.is_file()
            and candidate.stat().st_mode & 0o001
            and is_world_traversable(candidate.parent)
        ):
            return candidate
    raise ConfigurationError(
        f"the app user '{APP_USER}' cannot run any of {', '.join(map(str, candidates))}: "
        f"install Debian's {version} (apt-get install -y {version} {version}-venv)"
    )
