"""Cache entries are pickles; one that cannot be loaded is a miss.

During a rolling deploy clones of two releases share the cache Redis. Keys carry the
schema version of the class cached under them (``CACHE_VERSION``), so each release reads
only its own entries. An entry can still fail to load (a class renamed without a version
bump, a module gone, a truncated write): that must cost a rebuild, which overwrites the
entry, never a failed request. The first such entry of each kind is logged per process;
after that they are only counted (``<stat>.unreadable`` in ``/healthz``), so a deploy
cannot flood the log with one line per request.
"""

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
