"""A circuit breaker for one process: after a failure, leave a dependency alone a while.

The pattern of ``config.redis_guard`` (the cache): a dependency that is down or hanging
costs one failure per process per pause, not one per request. Used by the outbox's fast
path (``jobs.outbox``), whose jobs the relay sends anyway while the breaker is open.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Breaker:
    """Open for ``pause_seconds`` after each ``failed()``; ``succeeded()`` closes it."""

    def __init__(
        self, *, pause_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.pause_seconds = pause_seconds
        self._clock = clock
        self._open_until = 0.0

    def is_open(self) -> bool:
        return self._clock() < self._open_until

    def failed(self) -> None:
        self._open_until = self._clock() + self.pause_seconds

    def succeeded(self) -> None:
        self._open_until = 0.0
