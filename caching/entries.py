"""Cache entries are pickles under keys that carry their class's ``CACHE_VERSION`` (two
releases read only their own); one that cannot be loaded is a miss, logged once per kind
and counted (``<stat>.unreadable``), never a failed request."""

from __future__ import annotations

import logging
import pickle
from typing import Any

from core.errors import describe
from core.stats import cache_count

logger = logging.getLogger(__name__)

_reported: set[str] = set()  # kinds of entry (stat names) already logged as unreadable


def entry_dumps(value: object) -> bytes:
    """``value`` as the bytes stored in the cache."""
    return pickle.dumps(value)


def entry_loads(data: bytes, *, stat: str) -> Any | None:
    """The value stored as ``data``, or ``None`` (a miss) when it cannot be loaded."""
    try:
        return pickle.loads(data)  # noqa: S301  (our own Redis, our own objects)
    except Exception as error:  # noqa: BLE001  (unpickling can raise almost any error)
        cache_count(f"{stat}.unreadable")
        if stat not in _reported:
            _reported.add(stat)
            logger.warning(
                "Unreadable %s cache entry, treated as a miss (further ones are only "
                "counted as %s.unreadable): %s",
                stat,
                stat,
                describe(error),
            )
        return None
