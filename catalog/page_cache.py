"""Cached objects (seed lesson 3): the assembled product page, stored whole in Redis.

``product_page_cached(slug=...)`` returns the same ``ProductPage`` as the read model
(``catalog.read_model``: SQL or Mongo); on a hit it runs no SQL at all and makes two Redis
round trips (the slug's key names the product; the product's hash gives the page), which
also return the page's rendering when one is stored beside it
(``catalog.page_renderings``).

Never wrong, by three rules:

1. *Invalidate after commit.* Every committed change to a product announces
   ``product_changed(product_ids, lsn)`` (``catalog.events``); we then record the
   product's *written LSN* and delete its cached pages (one hash per product), in one
   atomic Redis script. A change whose LSN could not be read is recorded as "refill from
   the primary" instead.
2. *Refill only from data at least that new.* A miss reads after the larger of the
   catalog's write watermark (``caching.watermark``, never evicted) and the
   product's written LSN: from a replica that has replayed both, else from the primary.
   So a cold cache is refilled from the replicas, and a lagging replica can never put
   an old page back. Which product a slug names is asked the same way; a slug that
   names none is remembered as not found until the next write to the products table.
3. *Store only if nothing was written meanwhile.* The refill is stored by a script
   that checks the written LSN is still the one the build started from.

A missing page is rebuilt by one process at a time (``caching.rebuild_once``); a
waiter that gives up waiting assembles by the same rules, without storing. Entries are
stored per ``ProductPage.CACHE_VERSION``, so clones of two releases with different page
shapes never read each other's entries, and an entry that cannot be loaded is a miss
(``caching.entries``). Redis down: pages are assembled from the database
(``core.redis_guard``), read as the request reads (its own writes from the primary).
"""

from __future__ import annotations

import hashlib
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from django.conf import settings
from django.http import Http404
from redis import Redis

from caching.entries import entry_dumps, entry_loads
from caching.queries import table_generation_key
from caching.rebuild_once import read_or_rebuild_once, write_quietly
from caching.watermark import write_watermark_get
from catalog.models import Product
from catalog.read_model import product_id_read, product_page_read
from catalog.selectors import ProductPage
from catalog.slugs import slug_fits
from core.redis_guard import CACHE_ERRORS, cache_failed, cache_key, cache_redis, redis_client
from core.redis_scripts import redis_script, redis_script_pipelined
from core.stats import cache_count
from replication.lsn import Lsn
from replication.routing import RoutingScope, reading_after, routing_scope

STAT = "product_page"
PRODUCT_TABLE = Product._meta.db_table
FORGET_BATCH = 500  # products per pipelined round trip when many change at once
_LUA = Path(__file__).with_name("lua")
# Layout: every cached page of product P (one field per ProductPage.CACHE_VERSION, and
# its renderings beside it) sits in one hash, so a single DEL forgets them all and
# eviction can only drop whole products; P's written LSN shares the hash's hash tag, so
# one script handles both, on a Redis Cluster too. A slug key maps the URL to P, or says
# "no such product" for a while. There is no index of keys to lose.
_STORE_IF_UNCHANGED = _LUA / "page_store.lua"
_FORGET = _LUA / "page_forget.lua"
_STORE_RENDERING = _LUA / "rendering_store.lua"


@dataclass(frozen=True)
class CachedPage:
    """A product page as the cache gave it, with its stored rendering if one was asked."""

    page: ProductPage
    rendering: bytes | None = None
    stored: bytes | None = None  # the page's bytes in the cache; None when not stored


def _product_tag(product_id: int) -> str:
    """The hash tag of a product's keys: one slot of a Redis Cluster for all of them."""
    return f"{{product:{product_id}}}"


def _pages_key(product_id: int) -> str:
    return cache_key(f"product-page:{_product_tag(product_id)}")


def _version_field() -> str:
    return f"v{ProductPage.CACHE_VERSION}"


def _rendering_field(rendering: str) -> str:
    return f"{_version_field()}:{rendering}"


def _slug_key(slug: str) -> str:
    return cache_key(f"product-page-slug:{slug}")


def _written_key(product_id: int) -> str:
    return cache_key(f"product-page-written:{_product_tag(product_id)}")


def product_page_cached(*, slug: str) -> ProductPage:
    """The product page from the cache, else assembled (see the module docstring)."""
    return product_page_entry(slug=slug).page


def product_page_entry(*, slug: str, rendering: str = "") -> CachedPage:
    """The product page and, if ``rendering`` names one, its rendering stored beside it.

    A warm hit is two Redis round trips (the hit is counted in-process). ``Http404`` for a
    slug no product could have, before Redis is asked, and for a missing product.
    """
    if not slug_fits(model=Product, slug=slug):
        raise Http404("No such product.")
    client = cache_redis()
    if client is None:
        # The written LSNs are in the unreachable cache: read as the request reads.
        return CachedPage(page=product_page_read(slug=slug))
    try:
        return read_or_rebuild_once(
            client,
            key=f"product-page:{_version_field()}:{slug}",
            stat=STAT,
            first_read=lambda: _read(client, slug, rendering, count=True),
            read=lambda: _read(client, slug, rendering, count=False),
            rebuild=lambda: _assemble(client, slug, store=True),
            assemble=lambda: _assemble(client, slug, store=False),
        )
    except CACHE_ERRORS as error:
        cache_failed(error)
        return CachedPage(page=product_page_read(slug=slug))


def product_page_rendering_store(*, cached: CachedPage, rendering: str, data: bytes) -> None:
    """Keep ``data`` (a rendering of ``cached.page``) beside that page, under the same key
    and version: it goes with the page, whatever drops it. Only if the page is still the
    one in the cache; a cache failure only costs a later rendering."""
    client = cache_redis()
    if client is None or cached.stored is None:
        return
    script = redis_script(client, _STORE_RENDERING)
    keys = [_pages_key(cached.page.id)]
    args: list[str | bytes] = [
        _version_field(),
        hashlib.sha1(cached.stored).hexdigest(),  # noqa: S324  (a fingerprint, not a secret)
        _rendering_field(rendering),
        data,
    ]
    write_quietly(lambda: script(keys=keys, args=args))


def product_pages_forget(*, product_ids: frozenset[int], lsn: Lsn | None) -> bool:
    """Record ``lsn`` as the products' last write and drop their cached pages.

    ``lsn=None`` (the write's LSN could not be read) makes their next refills read
    the primary. Tried even while this process believes the cache is down: other
    clones may still be reading it. False when the cache could not be reached: the
    caller must try again later (``catalog.cache_invalidation`` does, through the outbox).
    """
    args = ["" if lsn is None else lsn, secrets.token_hex(8), settings.PRODUCT_PAGE_CACHE_SECONDS]
    ids = sorted(product_ids)
    try:
        client = redis_client("default")
        # Pipelined: a category rename can drop thousands of pages right after commit.
        for start in range(0, len(ids), FORGET_BATCH):
            calls = [
                ([_written_key(product_id), _pages_key(product_id)], args)
                for product_id in ids[start : start + FORGET_BATCH]
            ]
            redis_script_pipelined(client, _FORGET, calls)
    except CACHE_ERRORS as error:
        cache_failed(error)
        return False
    return True


def _read(client: Redis, slug: str, rendering: str, *, count: bool) -> CachedPage | None:
    """The slug's key names the product (or says there is none), then the product's hash
    gives the page and its rendering: two keys of two slots, so two round trips. A hit is
    counted in-process (``core.stats``)."""
    product = cast(bytes | None, client.get(_slug_key(slug)))
    if product is None:
        return None
    if product.startswith(b"missing:"):
        # Valid until the next write to the products table moves its generation.
        if client.get(table_generation_key(PRODUCT_TABLE)) != product.removeprefix(b"missing:"):
            return None
        if count:
            cache_count(f"{STAT}.not_found_hit")
        raise Http404(f"No product {slug!r}.")
    fields = [_version_field(), _rendering_field(rendering) if rendering else ""]
    stored, stored_rendering = cast(
        list[bytes | None], client.hmget(_pages_key(int(product)), fields)
    )
    page = None if stored is None else entry_loads(stored, stat=STAT)
    # The slug key outlives a rename: the product's page now lives under another slug.
    if page is None or page.slug != slug:
        return None
    if count:
        cache_count(f"{STAT}.hit")
    return CachedPage(page=page, rendering=stored_rendering, stored=stored)


def _assemble(client: Redis, slug: str, *, store: bool) -> CachedPage:
    """Read after every write the page could depend on, from a replica that has replayed
    them when there is one: the catalog's write watermark and the product's own last
    write (``caching.watermark``)."""
    # Read before the look-up: a "not found" is kept only while no product was written
    # since. Not set here when missing (no query the read model may spare); listings do.
    known = cast(bytes | None, client.get(table_generation_key(PRODUCT_TABLE)))
    generation = None if known is None else int(known)
    with reading_after(max(write_watermark_get(), generation or 0)):
        product_id = product_id_read(slug=slug)
        if product_id is None:
            if store and generation is not None:
                _remember_not_found(client, slug, generation)
            raise Http404(f"No product {slug!r}.")
        written = cast(bytes | None, client.get(_written_key(product_id)))
        with _reads_after(written):
            page = product_page_read(slug=slug)  # Http404 when unpublished: not cached
    if not store:
        return CachedPage(page=page)
    stored = entry_dumps(page)
    script = redis_script(client, _STORE_IF_UNCHANGED)
    keys = [_written_key(product_id), _pages_key(product_id)]
    args = [written or b"", stored, settings.PRODUCT_PAGE_CACHE_SECONDS, _version_field()]

    def store_if_unchanged() -> None:
        if script(keys=keys, args=args):
            # Another slot: a hint only, which a read checks against the page's slug.
            client.set(_slug_key(slug), product_id, ex=settings.PRODUCT_PAGE_CACHE_SECONDS)

    write_quietly(store_if_unchanged)
    return CachedPage(page=page, stored=stored)


def _remember_not_found(client: Redis, slug: str, generation: int) -> None:
    """For ``NOT_FOUND_CACHE_SECONDS``, or until a product is written (it may be this one):
    a read takes it only while the products table's generation is still ``generation``."""
    value = f"missing:{generation}"
    write_quietly(lambda: client.set(_slug_key(slug), value, ex=settings.NOT_FOUND_CACHE_SECONDS))


def _reads_after(written: bytes | None) -> AbstractContextManager[RoutingScope]:
    """Where a build reads, given the product's written LSN as stored by ``_FORGET``:
    within the watermark's scope, only a later or unknown LSN asks for more."""
    if written is None:
        return routing_scope()
    if not written.isdigit():  # "primary:<token>": that write's LSN is unknown
        return routing_scope(pin_primary=True)
    return reading_after(int(written))
