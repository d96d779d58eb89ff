"""Releases: immutable copies of the code in ``RUN_DIR/releases/<name>``; each clone and
worker process runs from ``RUN_DIR/running/<process>``, a symlink to one release.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import CommandError, ConfigurationError
from .files import write_if_changed
from .paths import Layout
from .proc import run
from .tools import GIT

# Never copied into a release: local state, caches and the checkout's own venv.
SKIPPED_PARTS = {".git", ".venv", ".run", "__pycache__", ".pytest_cache", ".ruff_cache"}
# Releases kept besides the ones programs run: what `rollback` can return to.
KEPT_RELEASES = 3
MARKER = "RELEASE"  # the release's name, read by the settings (config/settings/base.py)


def build_release(layout: Layout, name: str, python: Path) -> Path:
    """``RUN_DIR/releases/<name>`` from the checkout's files, compiled; kept if it exists."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name):
        raise ConfigurationError(
            f"release name {name!r}: use letters, digits, '.', '_' and '-' (at most 100), "
            "starting with a letter or digit"
        )
    target = layout.release_dir(name)
    if (target / MARKER).is_file():
        return target
    print(f"  building release {name} in {target}", flush=True)
    layout.releases_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    partial = target.with_name(f".{name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    _copy_tree(layout.checkout, _source_files(layout.checkout), partial)
    # The app user cannot write bytecode beside these files: compile it once here.
    skipped = rf"^{re.escape(str(partial))}/(.*/)?(\.|tests/)"  # hidden files, tests
    run([python, "-m", "compileall", "-q", "-x", skipped, str(partial)], what=f"compiling {name}")
    (partial / MARKER).write_text(f"{name}\n")
    partial.chmod(0o755)
    os.replace(partial, target)
    return target


def link_program(layout: Layout, program: str, name: str) -> bool:
    """Point ``RUN_DIR/running/<program>`` at release ``name`` (atomically); True if moved."""
    if linked_release(layout, program) == name:
        return False
    link = layout.running_code(program)
    link.parent.mkdir(mode=0o755, exist_ok=True)
    staged = link.with_name(f".{program}.new")
    staged.unlink(missing_ok=True)
    staged.symlink_to(Path("..") / layout.releases_dir.name / name)
    os.replace(staged, link)
    return True


def linked_release(layout: Layout, program: str) -> str | None:
    """The release ``program``'s link points at, or None before its first start."""
    try:
        return Path(os.readlink(layout.running_code(program))).name
    except OSError:
        return None


def record_release(layout: Layout, name: str) -> list[str]:
    """Append ``name`` to the deploy history (newest last), drop releases nothing needs."""
    history = [n for n in release_history(layout) if n != name] + [name]
    in_use = {linked_release(layout, link.name) for link in _links(layout)}
    kept = [n for n in history if n in in_use or n in history[-KEPT_RELEASES:]]
    write_if_changed(_history_file(layout), json.dumps(kept, indent=1) + "\n")
    for directory in layout.releases_dir.iterdir():
        if directory.is_dir() and directory.name not in kept and directory.name[0] != ".":
            shutil.rmtree(directory)
    return kept


def release_history(layout: Layout) -> list[str]:
    try:
        names = json.loads(_history_file(layout).read_text())
    except (OSError, ValueError):
        return []
    return [n for n in names if isinstance(n, str) and (layout.release_dir(n) / MARKER).exists()]


def previous_release(layout: Layout, current: str) -> str:
    """The release deployed before ``current``; a clear error when there is none."""
    history = release_history(layout)
    earlier = history[: history.index(current)] if current in history else history
    if not earlier:
        raise ConfigurationError(
            f"no release before {current} is kept in {layout.releases_dir}: nothing to roll back to"
        )
    return earlier[-1]


def _history_file(layout: Layout) -> Path:
    return layout.releases_dir / "history.json"


def _links(layout: Layout) -> Iterator[Path]:
    if layout.running_dir.is_dir():
        yield from (p for p in layout.running_dir.iterdir() if p.is_symlink())


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
        names = [path.relative_to(checkout) for path in walk(checkout) if path.is_file()]
    return [
        name
        for name in names
        if not SKIPPED_PARTS.intersection(name.parts) and (checkout / name).is_file()
    ]


def walk(root: Path) -> Iterator[Path]:
    """Every path under ``root``, leaving out ``SKIPPED_PARTS``."""
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d not in SKIPPED_PARTS]
        for name in (*subdirs, *files):
            yield Path(directory) / name


def _copy_tree(source: Path, names: Iterable[Path], target: Path) -> None:
    for name in names:
        origin, copy = source / name, target / name
        copy.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        shutil.copy2(origin, copy)
        copy.chmod(0o755 if origin.stat().st_mode & 0o100 else 0o644)
