"""A circuit breaker for one process: after a failure, leave a dependency alone a while.

Why and how: ``docs/operating.md``."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable

_every_breaker: weakref.WeakSet[Breaker] = weakref.WeakSet()


class Breaker:
    """Open for a pause after each ``failed()``; ``succeeded()`` closes it.

    ``pause_seconds`` is a number, or a function asked at each failure (e.g.
    ``lambda: settings.CACHE_RETRY_SECONDS``), so settings are read when used.
    """

    def __init__(
        self,
        *,
        pause_seconds: float | Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pause_seconds = pause_seconds
        self._clock = clock
        self._open_until: float | None = None  # None: no failure since the last success
        _every_breaker.add(self)

    @property
    def pause_seconds(self) -> float:
        pause = self._pause_seconds
        return pause() if callable(pause) else pause

    def is_open(self) -> bool:
        """True while the pause after the latest failure lasts: do not try now."""
        return self._open_until is not None and self._clock() < self._open_until

    def failed(self) -> bool:
        """Open for a pause; True if this failure starts an outage (the first since a success)."""
        started = self._open_until is None
        self._open_until = self._clock() + self.pause_seconds
        return started

    def succeeded(self) -> bool:
        """Close; True if this ends an outage (there were failures since the last success)."""
        ended = self._open_until is not None
        self._open_until = None
        return ended


def breakers_reset() -> None:
    """Close every breaker of this process and forget its failures, without a word.

    For tests, so that none inherits an outage from the one before it.
    """
    for breaker in list(_every_breaker):
        breaker.succeeded()
