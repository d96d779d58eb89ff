"""Cached objects (lesson 3): an object assembled from many rows, stored whole in Redis,
never stale after a commit. An app registers an ``ObjectCache`` per kind of object;
``caching.invalidation`` drops its entries when their owner changes."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, models
from django.http import Http404
from redis import Redis

from caching.entries import entry_dumps, entry_loads
from caching.queries import table_generation_key, table_generations_get
from caching.rebuild_once import read_or_rebuild_once, write_quietly
from caching.watermark import write_watermark_get
from core.redis_guard import CACHE_ERRORS, cache_failed, cache_key, cache_redis, redis_client
from core.redis_scripts import redis_script, redis_script_pipelined
from core.stats import cache_count
from replication.lsn import Lsn
from replication.routing import RoutingScope, reading_after, routing_scope

T = TypeVar("T")

FORGET_BATCH = 500  # owners per pipelined round trip when many change at once
_LUA = Path(__file__).with_name("lua")
_STORE_IF_UNCHANGED = _LUA / "object_store.lua"
_FORGET = _LUA / "object_forget.lua"
_STORE_RENDERING = _LUA / "rendering_store.lua"


@dataclass(frozen=True)
class Cached(Generic[T]):
    """An object as the cache gave it, with its stored rendering if one was asked."""

    value: T
    rendering: bytes | None = None
    stored: bytes | None = None  # the object's bytes in the cache; None when not stored


@dataclass(frozen=True)
class ObjectCache(Generic[T]):
    """One kind of cached object, found by a key (e.g. a slug) and owned by one row.

    Redis layout of owner P: one hash ``<name>:{<name>:P}`` holds the object (a field per
    ``CACHE_VERSION``) and its renderings, so one DEL forgets them all and eviction drops
    whole owners; P's written LSN ``<name>-written:{<name>:P}`` shares its hash tag (one
    script handles both, on a Redis Cluster too). ``<name>-key:<key>`` names P, or says
    "none" until the owner table's next write. Counters: ``<name with _>.hit`` etc.
    """

    name: str  # e.g. "product-page"
    owner: type[models.Model]  # whose changes (``objects_changed``) drop entries
    object_class: type  # its ``CACHE_VERSION`` is part of every entry's field
    find_owner: Callable[[str], int | None]  # key → owner id; reads where the scope reads
    assemble: Callable[[str], T]  # key → object from the database; ``Http404`` for none
    key_of: Callable[[T], str]  # an object's key now (it may have been renamed)
    owner_of: Callable[[T], int]  # an object's owner id
    seconds: Callable[[], int]  # how long an entry lives unless a write drops it
    key_fits: Callable[[str], bool] = bool  # False: ``Http404`` before Redis is asked

    @property
    def stat(self) -> str:
        return self.name.replace("-", "_")

    def get(self, key: str, *, rendering: str = "") -> Cached[T]:
        """The object under ``key`` and, if ``rendering`` names one, its rendering.

        A warm hit is two Redis round trips (the key's, then the owner's hash). Redis down:
        assembled from the database, read as the request reads.
        """
        if not self.key_fits(key):
            raise Http404(f"No {self.name} {key[:100]!r}.")
        client = cache_redis()
        if client is None:
            return Cached(value=self.assemble(key))
        try:
            return read_or_rebuild_once(
                client,
                key=self.rebuild_key(key),
                stat=self.stat,
                first_read=lambda: _read(self, client, key, rendering, count=True),
                read=lambda: _read(self, client, key, rendering, count=False),
                rebuild=lambda: _assemble(self, client, key, store=True),
                assemble=lambda: _assemble(self, client, key, store=False),
            )
        except CACHE_ERRORS as error:
            cache_failed(error)
            return Cached(value=self.assemble(key))

    def rendering_store(self, *, cached: Cached[T], rendering: str, data: bytes) -> None:
        """Keep ``data`` (a rendering of ``cached.value``) beside that object, only if it is
        still the one in the cache: it then goes with the object, whatever drops it."""
        client = cache_redis()
        if client is None or cached.stored is None:
            return
        script = redis_script(client, _STORE_RENDERING)
        keys = [self.hash_key(self.owner_of(cached.value))]
        fingerprint = hashlib.sha1(cached.stored).hexdigest()  # noqa: S324  (not a secret)
        args: list[str | bytes] = [self.field(), fingerprint, self.field(rendering), data]
        write_quietly(lambda: script(keys=keys, args=args))

    def forget(self, *, ids: Iterable[int], lsn: Lsn | None) -> bool:
        """Record ``lsn`` as the owners' last write and drop their entries (``None``: the
        LSN is unknown, refill from the primary). False when the cache could not be
        reached: the caller must try again later."""
        args = ["" if lsn is None else lsn, secrets.token_hex(8), self.seconds()]
        owners = sorted(ids)
        try:
            client = redis_client("default")
            # Pipelined: a group's rename can drop thousands of objects right after commit.
            for start in range(0, len(owners), FORGET_BATCH):
                calls = [
                    ([self.written_key(owner), self.hash_key(owner)], args)
                    for owner in owners[start : start + FORGET_BATCH]
                ]
                redis_script_pipelined(client, _FORGET, calls)
        except CACHE_ERRORS as error:
            cache_failed(error)
            return False
        return True

    def rebuild_key(self, key: str) -> str:
        """What ``caching.rebuild_once`` locks while the object under ``key`` is rebuilt."""
        return f"{self.name}:{self.field()}:{key}"

    def field(self, rendering: str = "") -> str:
        """The hash field of this release's object (``CACHE_VERSION``), or of a rendering."""
        version = f"v{cast(Any, self.object_class).CACHE_VERSION}"
        return f"{version}:{rendering}" if rendering else version

    def _tag(self, owner_id: int) -> str:
        """The hash tag of an owner's keys: one slot of a Redis Cluster for all of them."""
        return f"{{{self.name}:{owner_id}}}"

    def hash_key(self, owner_id: int) -> str:
        """The hash of an owner's objects (a field per version) and their renderings."""
        return cache_key(f"{self.name}:{self._tag(owner_id)}")

    def written_key(self, owner_id: int) -> str:
        """The LSN of the owner's last write, or ``primary:<token>`` when unknown."""
        return cache_key(f"{self.name}-written:{self._tag(owner_id)}")

    def lookup_key(self, key: str) -> str:
        """Names the owner of the object under ``key``, or says none (``missing:<gen>``)."""
        return cache_key(f"{self.name}-key:{key}")

    def owner_table(self) -> str:
        return self.owner._meta.db_table


_registered: dict[str, ObjectCache[Any]] = {}


def object_cache_register(cache: ObjectCache[T]) -> ObjectCache[T]:
    """Make ``cache`` known to invalidation; its name must be its own."""
    if _registered.setdefault(cache.name, cache) is not cache:
        raise ImproperlyConfigured(f"Two object caches are named {cache.name!r}")
    return cache


def object_caches(owner: type[models.Model] | None = None) -> list[ObjectCache[Any]]:
    """The registered object caches (of ``owner`` only, if given)."""
    return [cache for cache in _registered.values() if owner in (None, cache.owner)]


def _read(
    cache: ObjectCache[T], client: Redis, key: str, rendering: str, *, count: bool
) -> Cached[T] | None:
    """The key names the owner (or says there is none), then the owner's hash gives the
    object and its rendering: two keys of two slots, so two round trips."""
    owner = cast(bytes | None, client.get(cache.lookup_key(key)))
    if owner is None:
        return None
    if owner.startswith(b"missing:"):
        # Valid until the next write to the owner table moves its generation.
        generation = client.get(table_generation_key(cache.owner_table()))
        if generation != owner.removeprefix(b"missing:"):
            return None
        if count:
            cache_count(f"{cache.stat}.not_found_hit")
        raise Http404(f"No {cache.name} {key!r}.")
    fields = [cache.field(), cache.field(rendering) if rendering else ""]
    stored, stored_rendering = cast(
        list[bytes | None], client.hmget(cache.hash_key(int(owner)), fields)
    )
    value = None if stored is None else entry_loads(stored, stat=cache.stat)
    # The key outlives a rename: the object now lives under another key.
    if value is None or cache.key_of(value) != key:
        return None
    if count:
        cache_count(f"{cache.stat}.hit")
    return Cached(value=value, rendering=stored_rendering, stored=stored)


def _assemble(cache: ObjectCache[T], client: Redis, key: str, *, store: bool) -> Cached[T]:
    """Read after every write the object could depend on, from a replica that has
    replayed them when there is one: the write watermark, the owner table's generation
    (when known) and the owner's own last write. Stored only if no write to the owner
    was announced meanwhile."""
    # Read before the look-up: a "not found" is kept only while no owner was written since.
    known = cast(bytes | None, client.get(table_generation_key(cache.owner_table())))
    generation = None if known is None else int(known)
    with reading_after(max(write_watermark_get(), generation or 0)):
        owner_id = cache.find_owner(key)
        if owner_id is None:
            if store:
                _remember_not_found(cache, client, key, generation)
            raise Http404(f"No {cache.name} {key!r}.")
        written = cast(bytes | None, client.get(cache.written_key(owner_id)))
        with _reads_after(written):
            value = cache.assemble(key)  # Http404 (e.g. unpublished): not cached
    # A rename between the look-up and the assembly: the object is another owner's.
    if not store or cache.owner_of(value) != owner_id:
        return Cached(value=value)
    stored = entry_dumps(value)
    script = redis_script(client, _STORE_IF_UNCHANGED)
    keys = [cache.written_key(owner_id), cache.hash_key(owner_id)]
    args: list[bytes | str | int] = [written or b"", stored, cache.seconds(), cache.field()]

    def store_if_unchanged() -> None:
        if script(keys=keys, args=args):
            # Another slot: a hint only, which a read checks against the object's key.
            client.set(cache.lookup_key(key), owner_id, ex=cache.seconds())

    write_quietly(store_if_unchanged)
    return Cached(value=value, stored=stored)


def _remember_not_found(
    cache: ObjectCache[Any], client: Redis, key: str, generation: int | None
) -> None:
    """For ``NOT_FOUND_CACHE_SECONDS``, or until an owner is written (it may be this one):
    a read takes it only while the owner table's generation is still ``generation``."""
    if generation is None:
        # Unknown (no cached query on the table set it): from the next miss on, one query
        # of the primary's LSN. Not before the look-up: a key that names an owner, the
        # usual case, need not cost it (a read model that spares SQL would pay it).
        with contextlib.suppress(DatabaseError):
            write_quietly(
                lambda: table_generations_get(client=client, tables=[cache.owner_table()])
            )
        return
    value = f"missing:{generation}"
    seconds = settings.NOT_FOUND_CACHE_SECONDS
    write_quietly(lambda: client.set(cache.lookup_key(key), value, ex=seconds))


def _reads_after(written: bytes | None) -> AbstractContextManager[RoutingScope]:
    """Where a build reads, given the owner's written LSN as stored by ``_FORGET``:
    within the watermark's scope, only a later or unknown LSN asks for more."""
    if written is None:
        return routing_scope()
    if not written.isdigit():  # "primary:<token>": that write's LSN is unknown
        return routing_scope(pin_primary=True)
    return reading_after(int(written))
