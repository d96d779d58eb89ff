"""The prerendered pages on disk: builds, the published one, pages taken out of service.

Why and how: ``docs/lessons/4.1-bake-at-night.md``."""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from django.conf import settings

from replication.lsn import Lsn

BUILDS = "builds"
CURRENT = "current"
PENDING = "pending"
FIGURES = "build.json"
PRODUCTS = ".products"
DIR_MODE = 0o755  # nginx's workers (another user) read every file
FILE_MODE = 0o644


def root() -> Path:
    return Path(settings.PRERENDER_ROOT)


def _ensure(path: Path) -> Path:
    """``path`` and its missing parents, readable by nginx whatever the umask."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
        directory.chmod(DIR_MODE)
    return missing[0] if missing else path


@contextmanager
def _flock(name: str, *, wait: bool = True) -> Iterator[bool]:
    """An exclusive lock on ``PRERENDER_ROOT/name``; yields False if busy and not ``wait``."""
    # Read-only: a lock file another user created (0644) still locks for everyone.
    handle = os.open(_ensure(root()) / name, os.O_RDONLY | os.O_CREAT, FILE_MODE)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)


def publish_lock() -> Any:
    """Held while pages are taken out, put back, or a build is published."""
    return _flock(".lock")


def build_lock() -> Any:
    """Held by the one build running on this directory; yields False if another has it."""
    return _flock(".build.lock", wait=False)


def build_running() -> bool:
    """Whether a build holds this directory now. A build that starts later reads after
    its own start, so it holds every change committed before."""
    with build_lock() as free:
        return not free


def page_file(base: Path, path: str) -> Path:
    """Where the page for URL ``path`` (``/products/x/``) lives under ``base``."""
    return base.joinpath(*[part for part in path.split("/") if part], "index.html")


def _replace(target: Path, data: bytes) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.chmod(FILE_MODE)
    os.replace(temporary, target)


def page_write(base: Path, path: str, body: bytes) -> int:
    """Write (or replace) one page and its ``.gz``; return the bytes written."""
    html = page_file(base, path)
    _ensure(html.parent)
    compressed = gzip.compress(body, compresslevel=6, mtime=0)
    _replace(html.with_name("index.html.gz"), compressed)
    _replace(html, body)
    return len(body) + len(compressed)


def page_remove(base: Path, path: str) -> None:
    """Take one page out of service (HTML first, so nginx stops serving it at once)."""
    html = page_file(base, path)
    html.unlink(missing_ok=True)
    html.with_name("index.html.gz").unlink(missing_ok=True)


def current_build() -> Path | None:
    """The published build's directory, or None before the first publish."""
    link = root() / CURRENT
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def build_new() -> Path:
    """A fresh, empty directory for a full build."""
    now = time.time()
    name = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now * 1e6) % 10**6:06d}Z"
    return _ensure(root() / BUILDS / name)


def build_figures(build: Path | None) -> dict[str, Any] | None:
    try:
        return json.loads((build / FIGURES).read_text()) if build else None
    except (OSError, ValueError):
        return None


def build_figures_write(build: Path, figures: dict[str, Any]) -> None:
    _replace(build / FIGURES, json.dumps(figures, indent=1).encode())


def build_publish(build: Path, *, keep: int) -> None:
    """Point ``current`` at ``build`` in one rename; delete all but the ``keep`` newest
    builds (the one published included). Call with ``publish_lock`` held."""
    link = root() / CURRENT
    temporary = root() / f".{CURRENT}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(Path(BUILDS) / build.name)
    os.replace(temporary, link)
    finished = sorted(
        (b for b in (root() / BUILDS).iterdir() if (b / FIGURES).exists()), reverse=True
    )
    for old in finished[max(keep, 1) :]:
        if old != build:
            shutil.rmtree(old, ignore_errors=True)


def builds_abandoned_remove() -> None:
    """Delete builds that never finished (a build killed midway). Hold ``build_lock``."""
    for build in _ensure(root() / BUILDS).iterdir():
        if not (build / FIGURES).exists():
            shutil.rmtree(build, ignore_errors=True)


@dataclass(frozen=True)
class Pending:
    """A page taken out of service by a change committed at ``lsn`` (None: unknown),
    recorded at ``at`` (Unix time)."""

    path: str
    lsn: Lsn | None
    at: float

    def covered_by(self, *, lsn: Lsn, since: float) -> bool:
        """Whether a rendering that read at or after ``lsn``, starting at ``since``,
        holds this change: it does if its LSN is at least the change's, or, for a change
        of unknown LSN, if it started after the change was recorded."""
        return self.at < since if self.lsn is None else self.lsn <= lsn


def _pending_file(path: str) -> Path:
    return root() / PENDING / quote(path, safe="")


def pending_record(paths: set[str], lsn: Lsn | None) -> None:
    """Remember that ``paths`` changed at ``lsn``; keeps the latest LSN of each page."""
    directory = _ensure(root() / PENDING)
    for path in paths:
        known = pending_get(path)
        if known is not None and known.lsn is not None and lsn is not None and known.lsn > lsn:
            continue
        _replace(directory / quote(path, safe=""), b"" if lsn is None else str(lsn).encode())


def pending_get(path: str) -> Pending | None:
    file = _pending_file(path)
    try:
        text, at = file.read_text(), file.stat().st_mtime
    except FileNotFoundError:
        return None
    return Pending(path=path, lsn=int(text) if text else None, at=at)


def pending_all() -> list[Pending]:
    directory = root() / PENDING
    if not directory.is_dir():
        return []
    found = (pending_get(unquote(file.name)) for file in directory.iterdir())
    return [entry for entry in found if entry is not None]


def pending_clear(path: str) -> None:
    _pending_file(path).unlink(missing_ok=True)


def product_location(base: Path, product_id: int) -> tuple[str, str] | None:
    """The (product path, category path) the build ``base`` has for a product."""
    try:
        product, category = (base / PRODUCTS / str(product_id)).read_text().split("\n")
    except (OSError, ValueError):
        return None
    return product, category


def product_location_write(base: Path, product_id: int, location: tuple[str, str] | None) -> None:
    file = _ensure(base / PRODUCTS) / str(product_id)
    if location is None:
        file.unlink(missing_ok=True)
    else:
        _replace(file, "\n".join(location).encode())
