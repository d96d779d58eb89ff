"""A full build: every page rendered into a fresh directory, then published at once.

Why and how: ``docs/lessons/4.1-bake-at-night.md``."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections

from prerender import store
from prerender.rendering import Rendered, category_path, paths_render, product_path
from prerender.site import site_paths
from replication.lsn import Lsn, primary_current_lsn
from replication.routing import reading_after

CHUNK = 250  # product pages per task of a rendering process


@dataclass(frozen=True)
class BuildFigures:
    name: str
    started_at: float
    finished_at: float
    seconds: float
    pages: int
    bytes: int
    pages_per_second: float
    bound: Lsn
    processes: int


def _write(build: Path, rendered: list[Rendered]) -> tuple[int, int]:
    pages = size = 0
    for page in rendered:
        if page.body is not None:
            size += store.page_write(build, page.path, page.body)
            pages += 1
    return pages, size


def _render_chunk(task: tuple[str, list[str], Lsn]) -> tuple[int, int, int]:
    """In a rendering process: render and write ``paths``; (pages, bytes, paths done)."""
    build, paths, bound = task
    with reading_after(bound):
        rendered, products = paths_render(paths)
    for product in products:
        location = (product_path(product.slug), category_path(product.category_slug))
        store.product_location_write(Path(build), product.id, location)
    pages, size = _write(Path(build), rendered)
    return pages, size, len(paths)


def _map(function, tasks, processes: int):
    """``function`` over ``tasks``: here for one process, else in forked processes."""
    if processes <= 1:
        yield from map(function, tasks)
        return
    connections.close_all()  # never share a connection with a forked process
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        yield from pool.imap_unordered(function, tasks)


def processes_default() -> int:
    return settings.PRERENDER_PROCESSES or os.cpu_count() or 1


def site_build(
    *, processes: int | None = None, progress: Callable[[int, int], None] | None = None
) -> BuildFigures | None:
    """Render every page into a new build and publish it; None if another build holds
    this directory (two builds at once give one publish). ``progress(done, total)`` is
    called as pages are rendered."""
    processes = processes or processes_default()
    with store.build_lock() as mine:
        if not mine:
            return None
        store.builds_abandoned_remove()
        with as_served():
            return _build(processes, progress or (lambda done, total: None))


@contextmanager
def as_served() -> Iterator[None]:
    """Render as the clones serve: with DEBUG off (static files by their hashed names),
    even when the command runs under development settings."""
    debug, settings.DEBUG = settings.DEBUG, False
    try:
        yield
    finally:
        settings.DEBUG = debug


def _build(processes: int, progress: Callable[[int, int], None]) -> BuildFigures:
    started_at, clock = time.time(), time.monotonic()
    bound = primary_current_lsn()
    build = store.build_new()
    with reading_after(bound):
        paths = site_paths()
    products = paths.pop("product")
    others = [path for kind in paths.values() for path in kind]
    total = len(products) + len(others)
    pages, size, done = _render_chunk((str(build), others, bound))
    progress(done, total)
    tasks = [(str(build), products[i : i + CHUNK], bound) for i in range(0, len(products), CHUNK)]
    for chunk_pages, chunk_size, chunk_done in _map(_render_chunk, tasks, processes):
        pages, size, done = pages + chunk_pages, size + chunk_size, done + chunk_done
        progress(done, total)
    seconds = time.monotonic() - clock
    figures = BuildFigures(
        name=build.name,
        started_at=started_at,
        finished_at=time.time(),
        seconds=round(seconds, 2),
        pages=pages,
        bytes=size,
        pages_per_second=round(pages / seconds, 1) if seconds else 0.0,
        bound=bound,
        processes=processes,
    )
    _publish(build, figures)
    return figures


def _publish(build: Path, figures: BuildFigures) -> None:
    """Leave out pages changed past the bound, write the figures, swap, prune."""
    with store.publish_lock():
        for entry in store.pending_all():
            if not entry.covered_by(lsn=figures.bound, since=figures.started_at):
                store.page_remove(build, entry.path)
        store.build_figures_write(build, asdict(figures))
        store.build_publish(build, keep=settings.PRERENDER_KEEP_BUILDS)
        for entry in store.pending_all():
            if entry.covered_by(lsn=figures.bound, since=figures.started_at):
                store.pending_clear(entry.path)
