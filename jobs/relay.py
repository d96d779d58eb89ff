"""The outbox relay: sends what the fast path could not, for as long as it runs.

Why and how: ``docs/lessons/4.2-special-orders.md``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections

from core.errors import describe
from jobs.errors import BrokerUnavailableError
from jobs.outbox import outbox_prune_sent, outbox_send_due
from jobs.selectors import outbox_unsent_figures
from jobs.sweeps import SweepSchedule

logger = logging.getLogger(__name__)

KEEP_SENT = timedelta(days=7)
PRUNE_EVERY = 3600  # idle loops between two prunes of old sent rows


def relay_forever(*, should_stop: Callable[[], bool] = lambda: False) -> None:
    """Send due outbox rows until ``should_stop()``; never gives up on a row, and outlives
    an unreachable broker or database."""
    interval = settings.OUTBOX_RELAY_INTERVAL_SECONDS
    backoff, outage_since, idle_loops = interval, None, 0
    sweeps = SweepSchedule()
    while not should_stop():
        close_old_connections()  # a restarted database or a stale pooled connection
        try:
            sent = outbox_send_due()
            if not sent:
                idle_loops += 1
                if idle_loops % PRUNE_EVERY == 0:
                    outbox_prune_sent(older_than=KEEP_SENT)
        except (BrokerUnavailableError, DatabaseError) as error:
            if outage_since is None:
                outage_since = time.monotonic()
                what = "broker" if isinstance(error, BrokerUnavailableError) else "database"
                logger.warning(
                    "relay: %s unavailable (%s); %s jobs wait in the outbox",
                    what,
                    describe(error),
                    _unsent_jobs(),
                )
            backoff = min(backoff * 2, settings.OUTBOX_RELAY_MAX_BACKOFF_SECONDS)
            time.sleep(backoff)
            continue
        if outage_since is not None:
            logger.warning(
                "relay: sending again after %.1fs of outage", time.monotonic() - outage_since
            )
            outage_since = None
        backoff = interval
        sweeps.run_due()  # each logs its own failure: a failing sweep ends no loop
        if sent:
            logger.info("relay: sent %s jobs", sent)
            continue  # there may be more
        time.sleep(interval)


def _unsent_jobs() -> int | str:
    """How many jobs wait, for the outage's log line: "?" when the database cannot say."""
    try:
        return outbox_unsent_figures()["unsent"]
    except DatabaseError:
        return "?"
