"""The write watermark: the highest LSN of any change announced (``caching.changes``).

A refill that reads after it sees every announced write. Kept in the sessions Redis (never
evicted), raised before a write's entries are dropped; when unknown, the primary's current
LSN stands in for it."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import cast

from django.core.cache import caches

from core.errors import describe
from core.redis_guard import CACHE_ERRORS, redis_client
from core.redis_scripts import redis_script
from replication.lsn import Lsn, primary_current_lsn

logger = logging.getLogger(__name__)

ALIAS = "sessions"  # the Redis that never evicts
_LUA = Path(__file__).with_name("lua")
_RAISE = _LUA / "watermark_raise.lua"
_ESTABLISH = _LUA / "watermark_establish.lua"


def _key() -> str:
    return caches[ALIAS].make_key("write-watermark")


def write_watermark_raise(*, lsn: Lsn | None) -> bool:
    """Raise the watermark to ``lsn`` (never lower it); ``None`` makes it unknown.

    False when its Redis could not be reached: the caller must try again later.
    """
    client = redis_client(ALIAS)
    args = ["" if lsn is None else lsn, secrets.token_hex(8)]
    try:
        redis_script(client, _RAISE)(keys=[_key()], args=args)
    except CACHE_ERRORS as error:
        logger.warning("Cannot raise the write watermark: %s", describe(error))
        return False
    return True


def write_watermark_get() -> Lsn:
    """The LSN a refill must read after: the watermark, or the primary's current LSN
    when the watermark is unknown (then kept as the watermark, one tiny query)."""
    client = redis_client(ALIAS)
    try:
        known = cast(bytes | None, client.get(_key()))
    except CACHE_ERRORS as error:
        logger.warning("Write watermark unreadable, using the primary's LSN: %s", error)
        return primary_current_lsn()
    if known is not None and known.isdigit():
        return int(known)
    lsn = primary_current_lsn()
    try:
        redis_script(client, _ESTABLISH)(keys=[_key()], args=[known or b"", lsn])
    except CACHE_ERRORS as error:
        logger.warning("Cannot store the write watermark: %s", describe(error))
    return lsn
