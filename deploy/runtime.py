"""Who runs the app tier, and from which copy of the code and interpreter.

As root, the clones, workers, outbox relay and Redis servers run as ``APP_USER``, an
unprivileged system user that `make bootstrap` creates: a hole in the app then cannot
become root. That user may not reach the checkout (a home directory of mode 700) nor the
venv's interpreter (e.g. pyenv under /root), so as root the app tier runs from
``RUN_DIR/app``: a copy of the checkout's files, owned by root and read-only to the app
user, and a venv made with an interpreter every user can run. Not as root, every process
runs as the caller, from the checkout and its ``.venv``.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import CommandError, ConfigurationError
from .files import write_if_changed
from .paths import Layout, is_world_traversable
from .proc import AS_ROOT, run
from .tools import GIT

APP_USER = "scaleshop"
# Never copied into a release: local state, caches and the checkout's own venv.
SKIPPED_PARTS = {".git", ".venv", ".run", "__pycache__", ".pytest_cache", ".ruff_cache"}


@dataclass(frozen=True)
class Runtime:
    """The code, the venv and the user of every app-tier process."""

    code: Path
    venv_bin: Path
    user: str | None  # None: the caller's own user

    @property
    def python(self) -> Path:
        return self.venv_bin / "python"

    @property
    def manage(self) -> list[str]:
        """The start of a ``manage.py`` command line."""
        return [str(self.python), str(self.code / "manage.py")]


def app_runtime(layout: Layout, *, as_root: bool = AS_ROOT) -> Runtime:
    if not as_root:
        return Runtime(code=layout.checkout, venv_bin=layout.venv_bin, user=None)
    return Runtime(
        code=layout.app_dir / "code", venv_bin=layout.app_dir / "venv" / "bin", user=APP_USER
    )


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
        for item in (path, *_walk(path)):
            try:
                if item.lstat().st_uid != user.pw_uid:
                    os.chown(item, user.pw_uid, gid, follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed meanwhile by the running app tier (e.g. a page re-render)
    path.chmod(mode)


def install_runtime(layout: Layout) -> None:
    """As root, bring ``RUN_DIR/app`` up to date with the checkout; nothing otherwise."""
    if not AS_ROOT:
        return
    require_app_user()
    runtime = app_runtime(layout)
    layout.app_dir.mkdir(mode=0o755, exist_ok=True)
    _sync_tree(layout.checkout, _source_files(layout.checkout), runtime.code)
    _ensure_venv(layout, runtime)
    # The app user cannot write bytecode beside root's files: compile it once here.
    run(
        [runtime.python, "-m", "compileall", "-q", "-x", r"/(\.|tests/)", str(runtime.code)],
        what="compiling the release's bytecode",
    )


def _source_files(checkout: Path) -> list[Path]:
    """The checkout's files as git sees them (tracked and new, not ignored), relative."""
    try:
        listing = run(
            [GIT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            what="git ls-files",
            cwd=checkout,
        )
        names = [Path(name) for name in listing.split("\0") if name]
    except CommandError:  # not a git checkout (e.g. an unpacked archive)
        names = [path.relative_to(checkout) for path in _walk(checkout) if path.is_file()]
    return [
        name
        for name in names
        if not SKIPPED_PARTS.intersection(name.parts) and (checkout / name).is_file()
    ]


def _walk(root: Path) -> Iterator[Path]:
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d not in SKIPPED_PARTS]
        for name in (*subdirs, *files):
            yield Path(directory) / name


def _sync_tree(source: Path, names: Iterable[Path], target: Path) -> None:
    """Make ``target`` hold exactly ``names`` from ``source``; unchanged files stay."""
    wanted = set(names)
    for name in wanted:
        origin, copy = source / name, target / name
        info = origin.stat()
        try:
            copied = copy.stat()
        except OSError:
            copied = None
        if copied is None or (copied.st_size, copied.st_mtime_ns) != (
            info.st_size,
            info.st_mtime_ns,
        ):
            copy.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            partial = copy.with_name(f".{copy.name}.partial")
            shutil.copy2(origin, partial)
            partial.chmod(0o755 if info.st_mode & 0o100 else 0o644)
            os.replace(partial, copy)
    for path in sorted(_walk(target), reverse=True):  # children before their directories
        if path.is_file() and path.relative_to(target) not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _ensure_venv(layout: Layout, runtime: Runtime) -> None:
    """A venv for the app user, remade when the requirements or the interpreter change."""
    interpreter = _shared_interpreter()
    # The app's requirements, and the local-only servers run from the same venv (SecantusDB).
    files = [layout.checkout / name for name in ("requirements.txt", "requirements-local.txt")]
    stamp = hashlib.sha256(
        b"".join(f.read_bytes() for f in files) + str(interpreter).encode()
    ).hexdigest()
    venv = runtime.venv_bin.parent
    stamp_file = venv / ".scaleshop-requirements"
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return
    print(f"  making the app tier's venv ({venv}, {interpreter})", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    run([interpreter, "-m", "venv", venv], what=f"{interpreter} -m venv")
    run(
        [venv / "bin" / "pip", "install", "-q", *(arg for f in files for arg in ("-r", f))],
        what="pip install -r requirements.txt -r requirements-local.txt (app tier)",
        timeout=900,
    )
    write_if_changed(stamp_file, stamp)


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
