"""Periodic sweeps: small idempotent jobs that apps want run every so often.

Why and how: ``docs/lessons/4.2-special-orders.md``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from core.errors import describe

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweep:
    name: str
    path: str  # a function taking no arguments, returning how many things it fixed
    every_seconds: float


def sweeps_configured() -> list[Sweep]:
    """``settings.JOB_SWEEPS``: name -> (function path, seconds between runs)."""
    return [Sweep(name, path, every) for name, (path, every) in settings.JOB_SWEEPS.items()]


class SweepSchedule:
    """When each sweep last ran in this process; ``run_due`` runs the ones whose turn it is
    (all of them on the first call)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_run: dict[str, float] = {}

    def run_due(self) -> None:
        for sweep in sweeps_configured():
            now = self._clock()
            last = self._last_run.get(sweep.name)
            if last is not None and now - last < sweep.every_seconds:
                continue
            self._last_run[sweep.name] = now
            sweep_run(sweep)


def sweep_run(sweep: Sweep) -> int | None:
    """Run ``sweep`` once; how many things it fixed, or None if it failed (logged)."""
    try:
        fixed = import_string(sweep.path)()
    except Exception as error:  # noqa: BLE001  (a sweep never stops the relay)
        logger.warning(
            "sweep %r failed, next try in %ss: %s", sweep.name, sweep.every_seconds, describe(error)
        )
        return None
    if fixed:
        logger.warning("sweep %r: %s fixed", sweep.name, fixed)  # worth an operator's look
    return fixed
