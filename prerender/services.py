"""Keeping published pages right after a catalog change: out of service, then back.

Why and how: ``docs/lessons/4.1-bake-at-night.md``."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path

from django.db import transaction
from django.urls import Resolver404, resolve

from catalog.models import Product
from catalog.views import category_url
from core.errors import ShopError, describe
from jobs.outbox import outbox_enqueue
from prerender import store
from prerender.build import as_served
from prerender.rendering import category_path, paths_render, product_path
from replication.databases import PRIMARY
from replication.lsn import Lsn, primary_current_lsn
from replication.routing import reading_after

logger = logging.getLogger(__name__)
HOME = "/"
RESEND_AFTER_SECONDS = 60  # a page pending this long has lost its job


class BuildNewerError(ShopError):
    """A build newer than this re-render was published meanwhile; render again."""


def _locations_now(product_ids: Iterable[int]) -> set[str]:
    """The product and category pages the products have in the database now."""
    rows = Product.objects.using(PRIMARY).filter(pk__in=list(product_ids), published=True)
    paths: set[str] = set()
    for slug, category in rows.values_list("slug", "category__slug"):
        paths |= {product_path(slug), category_path(category)}
    return paths


def pages_withdraw(
    *, product_ids: Iterable[int], lsn: Lsn | None, home: bool = False, listings: bool = False
) -> set[str]:
    """Take out of service every published page a committed change may have altered,
    and queue their re-render. Called right after the commit; returns the paths.

    ``listings``: every category listing too (a category renamed, moved or deleted,
    which the products' pages alone do not name when it has none). Recorded as pending
    even with nothing published yet while a build runs: it must leave these pages out
    when it publishes.
    """
    ids = sorted(set(product_ids))
    paths = {HOME} if home else set()
    base = store.current_build()
    if base is None and not store.build_running():
        return set()  # nothing published, and no build that could publish the old page
    if listings:
        paths |= _all_category_paths(base)
    for product_id in ids:
        paths |= set(store.product_location(base, product_id) or ()) if base else set()
    try:
        paths |= _locations_now(ids)  # where they moved to (or appeared): stale there too
    except Exception as error:  # noqa: BLE001  (the write is committed: never fail it)
        logger.error("prerender: pages of products %s not looked up: %s", ids, describe(error))
        paths |= {HOME, *_all_category_paths(base)}
    # A product added, removed or renamed shifts every later page of its listing.
    paths |= _later_listing_pages(base, paths)
    if not paths:
        return paths
    with store.publish_lock():
        store.pending_record(paths, lsn)
        base = store.current_build()
        for path in paths:
            if base is not None:
                store.page_remove(base, path)
    if base is not None:  # else the build leaves them out, and the sweep queues them
        _queue(paths=sorted(paths), product_ids=ids)
    return paths


def _all_category_paths(base: Path | None) -> set[str]:
    """Every category page of a build (when the database cannot say which changed)."""
    listings = base.glob("categories/*/index.html") if base else ()
    return {category_path(page.parent.name) for page in listings}


def _later_listing_pages(base: Path | None, paths: set[str]) -> set[str]:
    """Pages 2, 3, … in the build of each listing whose first page is in ``paths``."""
    if base is None:
        return set()
    later = set()
    for path in paths:
        try:
            match = resolve(path)
        except Resolver404:
            continue
        if match.url_name == "category":
            pages = base.glob(f"categories/{match.kwargs['slug']}/page/*/index.html")
            later |= {category_url(match.kwargs["slug"], int(page.parent.name)) for page in pages}
    return later


def _queue(*, paths: list[str], product_ids: list[int]) -> None:
    from prerender.actors import prerender_pages

    try:
        with transaction.atomic():
            outbox_enqueue(actor=prerender_pages, args=(paths, product_ids))
    except Exception as error:  # noqa: BLE001  (the write is committed: never fail it)
        logger.error("prerender: re-render of %s not queued: %s", paths, describe(error))


def pages_rerender(*, paths: list[str], product_ids: list[int]) -> int:
    """Render ``paths`` and the products' current pages again and put them back; return
    how many pages were published. Safe to run twice, or late."""
    base = store.current_build()
    if base is None:
        return 0
    since = time.time()
    bound = primary_current_lsn()
    with reading_after(bound), as_served():
        targets = set(paths) | _locations_now(product_ids)
        rendered, pages = paths_render(sorted(targets))
    published = 0
    with store.publish_lock():
        base = store.current_build()
        figures = store.build_figures(base) or {}
        if base is None:
            return 0
        if figures.get("bound", 0) > bound:
            raise BuildNewerError(f"build {base.name} is newer than this re-render")
        for page in rendered:
            pending = store.pending_get(page.path)
            if pending is not None and not pending.covered_by(lsn=bound, since=since):
                continue  # a later change: its own job renders it
            if page.body is None:
                store.page_remove(base, page.path)
            else:
                store.page_write(base, page.path, page.body)
                published += 1
            store.pending_clear(page.path)
        found = {
            page.id: (product_path(page.slug), category_path(page.category_slug)) for page in pages
        }
        for product_id in product_ids:
            store.product_location_write(base, product_id, found.get(product_id))
    return published


def pages_pending_resend() -> int:
    """A sweep: queue again the pages pending for longer than a job takes; return how many."""
    old = [p.path for p in store.pending_all() if time.time() - p.at > RESEND_AFTER_SECONDS]
    if old:
        _queue(paths=sorted(old), product_ids=[])
    return len(old)
