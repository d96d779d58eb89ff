"""Cached objects (seed lesson 3): the assembled product page, stored whole in Redis.

``product_page_cached(slug=...)`` returns the same ``ProductPage`` as
``selectors.product_page_get``; on a hit it runs no SQL at all.

Never wrong, by three rules:

1. *Invalidate after commit.* Every committed change to a product announces
   ``product_changed(product_ids, lsn)`` (``catalog.events``); we then record the
   product's *written LSN* and delete its cached pages (one hash per product), in one
   atomic Redis script.
2. *Refill only from data at least that new.* A miss reads the written LSN first and
   assembles inside ``reading_after(lsn)``: from a replica that has replayed the
   write, else from the primary. Without a recorded LSN (never written, or evicted) it
   assembles from the primary. A lagging replica can never put an old page back.
3. *Store only if nothing was written meanwhile.* The refill is stored by a script
   that checks the written LSN is still the one the build started from.

A hot missing key is rebuilt by one process at a time (a short Redis lock); the others
wait briefly for its result (or for word that there is no such page). Entries are
stored per ``ProductPage.CACHE_VERSION``, so clones of two releases with different page
shapes never read each other's entries. Redis down:
pages are assembled from the database (``config.redis_guard``).
"""

from __future__ import annotations

import pickle
import secrets
import time

from django.conf import settings
from django.http import Http404

from catalog.models import Product
from catalog.selectors import ProductPage, product_page_get
from config.lsn import Lsn
from config.read_routing import PRIMARY, reading_after, routing_scope
from config.redis_guard import CACHE_ERRORS, cache_failed, cache_key, cache_redis, redis_client
from config.stats import stat_count

STAT = "product_page"
LOCK_SECONDS = 10
WAIT_STEP = 0.02
NOT_FOUND_SECONDS = 2  # how long waiters are told "the rebuild found no such page"

# Layout: every cached page of product P (one field per ProductPage.CACHE_VERSION) sits in
# one hash, so a single DEL forgets them all and eviction can only drop whole products;
# a slug key maps the URL to P. There is no index of keys to lose.
#
# KEYS: slug key. ARGV: page hash key prefix, version field. One round trip per hit.
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
# KEYS: written-LSN key, page hash. ARGV: LSN, TTL seconds. Keeps the highest LSN, so
# announcements arriving out of order cannot move it back.
_FORGET = """
local written = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > written then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return redis.call('DEL', KEYS[2])
"""
_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
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
        return product_page_get(slug=slug)
    try:
        page = _read(client, slug)
        if page is not None:
            stat_count("cache", f"{STAT}.hit")
            return page
        stat_count("cache", f"{STAT}.miss")
        return _rebuild_once(client, slug)
    except CACHE_ERRORS as error:
        cache_failed(error)
        return product_page_get(slug=slug)


def product_pages_forget(*, product_ids: frozenset[int], lsn: Lsn) -> bool:
    """Record ``lsn`` as the products' last write and drop their cached pages.

    Tried even while this process believes the cache is down: other clones may still
    be reading it. False when the cache could not be reached: the caller must try
    again later (``catalog.cache_invalidation`` does, through the outbox).
    """
    client = redis_client("default")
    forget = client.register_script(_FORGET)
    try:
        for product_id in product_ids:
            forget(
                keys=[_written_key(product_id), _pages_key(product_id)],
                args=[lsn, settings.PRODUCT_PAGE_CACHE_SECONDS],
            )
    except CACHE_ERRORS as error:
        cache_failed(error)
        return False
    return True


def _read(client, slug: str) -> ProductPage | None:
    cached = client.register_script(_READ)(
        keys=[_slug_key(slug)], args=[_pages_prefix(), _version_field()]
    )
    if cached is None:
        return None
    page = pickle.loads(cached)  # noqa: S301  (our own Redis, our own objects)
    # The slug key outlives a rename: the product's page now lives under another slug.
    return page if page.slug == slug else None


def _rebuild_once(client, slug: str) -> ProductPage:
    """One process assembles; the others wait for its result (bounded), then give up
    waiting and assemble for themselves without storing."""
    lock_key = cache_key(f"product-page-lock:{slug}")
    not_found_key = cache_key(f"product-page-not-found:{slug}")
    token = secrets.token_hex(8)
    if client.set(lock_key, token, nx=True, ex=LOCK_SECONDS):
        try:
            return _rebuild(client, slug)
        except Http404:
            client.set(not_found_key, 1, ex=NOT_FOUND_SECONDS)  # let the waiters go
            raise
        finally:
            client.register_script(_RELEASE_LOCK)(keys=[lock_key], args=[token])
    deadline = time.monotonic() + settings.PRODUCT_PAGE_REBUILD_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(WAIT_STEP)
        page = _read(client, slug)
        if page is not None:
            return page
        if client.exists(not_found_key):
            raise Http404(f"No product {slug!r}.")
    stat_count("cache", f"{STAT}.wait_timeout")
    return product_page_get(slug=slug)


def _rebuild(client, slug: str) -> ProductPage:
    # Which product is it? Asked of the primary: a lagging replica might not know it yet.
    product_id = (
        Product.objects.using(PRIMARY).filter(slug=slug).values_list("pk", flat=True).first()
    )
    if product_id is None:
        raise Http404(f"No product {slug!r}.")
    written = client.get(_written_key(product_id))
    scope = routing_scope(pin_primary=True) if written is None else reading_after(int(written))
    with scope:
        page = product_page_get(slug=slug)  # Http404 when unpublished: nothing to cache
    stat_count("cache", f"{STAT}.rebuild")
    client.register_script(_STORE_IF_UNCHANGED)(
        keys=[_written_key(product_id), _pages_key(product_id), _slug_key(slug)],
        args=[
            written or b"",
            pickle.dumps(page),
            settings.PRODUCT_PAGE_CACHE_SECONDS,
            _version_field(),
            product_id,
        ],
    )
    return page
