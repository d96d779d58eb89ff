"""Cached objects (seed lesson 3): the assembled product page, stored whole in Redis.

``product_page_cached(slug=...)`` returns the same ``ProductPage`` as the read model
(``catalog.read_model``: SQL or Mongo); on a hit it runs no SQL at all.

Never wrong, by three rules:

1. *Invalidate after commit.* Every committed change to a product announces
   ``product_changed(product_ids, lsn)`` (``catalog.events``); we then record the
   product's *written LSN* and delete its cached pages (one hash per product), in one
   atomic Redis script. A change whose LSN could not be read is recorded as "refill from
   the primary" instead.
2. *Refill only from data at least that new.* A miss reads the written LSN first and
   assembles inside ``reading_after(lsn)``: from a replica that has replayed the
   write, else from the primary. Without a recorded LSN (never written, or evicted) it
   assembles from the primary. A lagging replica can never put an old page back.
3. *Store only if nothing was written meanwhile.* The refill is stored by a script
   that checks the written LSN is still the one the build started from.

A missing page is rebuilt by one process at a time (``catalog.rebuild_once``); a
waiter that gives up waiting assembles by the same rules, without storing. Entries are
stored per ``ProductPage.CACHE_VERSION``, so clones of two releases with different page
shapes never read each other's entries, and an entry that cannot be loaded is a miss
(``catalog.cache_entries``). Redis down: pages are assembled from the database
(``config.redis_guard``), read as the request reads (its own writes from the primary).
"""

from __future__ import annotations

import secrets
from contextlib import AbstractContextManager
from typing import cast

from django.conf import settings
from django.http import Http404
from redis import Redis

from catalog.cache_entries import entry_dumps, entry_loads
from catalog.read_model import product_id_read, product_page_read
from catalog.rebuild_once import read_or_rebuild_once, write_quietly
from catalog.selectors import ProductPage
from config.lsn import Lsn
from config.read_routing import RoutingScope, reading_after, routing_scope
from config.redis_guard import CACHE_ERRORS, cache_failed, cache_key, cache_redis, redis_client

STAT = "product_page"
FORGET_BATCH = 500  # products per pipelined round trip when many change at once

# Layout: every cached page of product P (one field per ProductPage.CACHE_VERSION) sits in
# one hash, so a single DEL forgets them all and eviction can only drop whole products;
# a slug key maps the URL to P. There is no index of keys to lose.
#
# KEYS: slug key. ARGV: page hash key prefix, version field. A hit costs this one round
# trip, plus the hit counter's (``config.stats``).
_READ = """
local product_id = redis.call('GET', KEYS[1])
if not product_id then return false end
return redis.call('HGET', ARGV[1] .. product_id, ARGV[2])
"""
# KEYS: written-LSN key, page hash, slug key. ARGV: the written LSN seen before the build
# ("" for none), the pickled page, TTL seconds, version field, product id.
_STORE_IF_UNCHANGED = """
local written = redis.call('GET', KEYS[1]) or ''
if written ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[4], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[3])
return 1
"""
# KEYS: written-LSN key, page hash. ARGV: the write's LSN ("" when unknown), a fresh
# token, TTL seconds. Keeps the highest LSN, so announcements arriving out of order cannot
# move it back. A write of unknown LSN leaves "primary:<token>": refill from the primary
# from then on (no LSN is known to be high enough), under a value no build in flight
# started from, and every later write replaces the token, for the same reason.
_FORGET = """
local written = redis.call('GET', KEYS[1])
local known = tonumber(written or '0')
local lsn = tonumber(ARGV[1])
if lsn == nil or known == nil then
  redis.call('SET', KEYS[1], 'primary:' .. ARGV[2], 'EX', ARGV[3])
elseif lsn > known then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
end
return redis.call('DEL', KEYS[2])
"""


def _pages_prefix() -> str:
    return cache_key("product-page:")


def _pages_key(product_id: int) -> str:
    return f"{_pages_prefix()}{product_id}"


def _version_field() -> str:
    return f"v{ProductPage.CACHE_VERSION}"


def _slug_key(slug: str) -> str:
    return cache_key(f"product-page-slug:{slug}")


def _written_key(product_id: int) -> str:
    return cache_key(f"product-page-written:{product_id}")


def product_page_cached(*, slug: str) -> ProductPage:
    """The product page from the cache, else assembled (see the module docstring)."""
    client = cache_redis()
    if client is None:
        # The written LSNs are in the unreachable cache: read as the request reads.
        return product_page_read(slug=slug)
    try:
        return read_or_rebuild_once(
            client,
            key=f"product-page:{_version_field()}:{slug}",
            stat=STAT,
            read=lambda: _read(client, slug),
            rebuild=lambda: _assemble(client, slug, store=True),
            assemble=lambda: _assemble(client, slug, store=False),
        )
    except CACHE_ERRORS as error:
        cache_failed(error)
        return product_page_read(slug=slug)


def product_pages_forget(*, product_ids: frozenset[int], lsn: Lsn | None) -> bool:
    """Record ``lsn`` as the products' last write and drop their cached pages.

    ``lsn=None`` (the write's LSN could not be read) makes their next refills read
    the primary. Tried even while this process believes the cache is down: other
    clones may still be reading it. False when the cache could not be reached: the
    caller must try again later (``catalog.cache_invalidation`` does, through the outbox).
    """
    client = redis_client("default")
    forget = client.register_script(_FORGET)
    args = ["" if lsn is None else lsn, secrets.token_hex(8), settings.PRODUCT_PAGE_CACHE_SECONDS]
    ids = sorted(product_ids)
    try:
        # Pipelined: a category rename can drop thousands of pages right after commit.
        for start in range(0, len(ids), FORGET_BATCH):
            with client.pipeline(transaction=False) as pipe:
                for product_id in ids[start : start + FORGET_BATCH]:
                    keys = [_written_key(product_id), _pages_key(product_id)]
                    forget(keys=keys, args=args, client=pipe)
                pipe.execute()
    except CACHE_ERRORS as error:
        cache_failed(error)
        return False
    return True


def _read(client: Redis, slug: str) -> ProductPage | None:
    cached = client.register_script(_READ)(
        keys=[_slug_key(slug)], args=[_pages_prefix(), _version_field()]
    )
    page = None if cached is None else entry_loads(cached, stat=STAT)
    # The slug key outlives a rename: the product's page now lives under another slug.
    return page if page is not None and page.slug == slug else None


def _assemble(client: Redis, slug: str, *, store: bool) -> ProductPage:
    product_id = product_id_read(slug=slug)
    if product_id is None:
        raise Http404(f"No product {slug!r}.")
    written = cast(bytes | None, client.get(_written_key(product_id)))
    with _reads_after(written):
        page = product_page_read(slug=slug)  # Http404 when unpublished: nothing to cache
    if store:
        script = client.register_script(_STORE_IF_UNCHANGED)
        keys = [_written_key(product_id), _pages_key(product_id), _slug_key(slug)]
        args = [
            written or b"",
            entry_dumps(page),
            settings.PRODUCT_PAGE_CACHE_SECONDS,
            _version_field(),
            product_id,
        ]
        write_quietly(lambda: script(keys=keys, args=args))
    return page


def _reads_after(written: bytes | None) -> AbstractContextManager[RoutingScope]:
    """Where a build reads, given the product's written LSN as stored by ``_FORGET``."""
    if written is None or not written.isdigit():  # none recorded, or "primary:<token>"
        return routing_scope(pin_primary=True)
    return reading_after(int(written))
