"""Dramatiq actors of special orders. Thin: take IDs, call ``orders.baking``.

Messages come from the outbox (``orders.services``), carrying the LSN of the commit that
placed the order, so the worker reads a replica only once it has that order
(``jobs.middleware.ReadAfterSenderCommit``).
"""

import logging
import os
from datetime import timedelta

import dramatiq
from django.conf import settings
from django.db import DatabaseError
from dramatiq.middleware import CurrentMessage, Interrupt

from core.errors import describe
from orders import baking

logger = logging.getLogger(__name__)

MAX_RETRIES = 3
# Bakes one order may start before it is FAILED. Dramatiq counts retries only when the
# actor raises; a worker killed mid-bake (e.g. out of memory on a huge picture) gets the
# message back with the same count, forever, so the order's own ``attempts`` is capped.
MAX_ATTEMPTS = MAX_RETRIES + 1
TIME_LIMIT_MS = 60_000  # a bake takes seconds; a stuck one is interrupted and retried
MAX_BACKOFF_MS = 30_000
# Every attempt, with its time limit and the longest backoff before it, fits in this,
# counted from when the job reached the broker: an order still QUEUED or BAKING that long
# after its last job was sent has lost it (dead-lettered, or the broker lost it) and is
# sent again (``services.special_orders_resend_stuck``). A job still in the outbox (the
# broker is down) has not started its clock.
STUCK_AFTER = timedelta(milliseconds=(TIME_LIMIT_MS + MAX_BACKOFF_MS) * MAX_ATTEMPTS)


@dramatiq.actor(
    queue_name="orders",
    max_retries=MAX_RETRIES,
    min_backoff=2_000,  # ms; then 4 s, 8 s ... (Dramatiq's exponential backoff, jittered)
    max_backoff=MAX_BACKOFF_MS,
    time_limit=TIME_LIMIT_MS,
)
def bake_special_order(order_id: int, trivial_bake: bool = False) -> None:
    """Bake special order ``order_id`` and email its customer; idempotent.

    ``trivial_bake``: no oven time and a plain cake (sent only by `make bench`).

    Sent again for a ``READY`` order (``services.special_order_email_again``), it only
    emails. On the last allowed attempt a failure is recorded on the order
    (``baking.special_order_fail``); if even that fails (the database is down), the
    stuck-order sweep sends the job again later.
    """
    try:
        baking.special_order_bake(
            order_id=order_id,
            baker=f"{settings.CLONE_NAME}/{os.getpid()}",
            max_attempts=MAX_ATTEMPTS,
            trivial=trivial_bake,
        )
    except (Exception, Interrupt) as error:  # Interrupt: e.g. TimeLimitExceeded
        message = CurrentMessage.get_current_message()
        if message is not None and message.options.get("retries", 0) >= MAX_RETRIES:
            _record_failure(order_id, f"Gave up after retries: {describe(error, limit=1900)}")
        raise


def _record_failure(order_id: int, reason: str) -> None:
    try:
        baking.special_order_fail(order_id=order_id, reason=reason)
    except DatabaseError:
        logger.exception(
            "order %s: could not record its failure; the stuck-order sweep sends it again "
            "%s after its job was sent",
            order_id,
            STUCK_AFTER,
        )
