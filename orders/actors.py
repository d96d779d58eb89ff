"""Dramatiq actors of special orders. Thin: take IDs, call ``orders.baking``.

Messages come from the outbox (``orders.services``), carrying the LSN of the commit that
placed the order, so the worker reads a replica only once it has that order
(``jobs.middleware.ReadAfterSenderCommit``).
"""

import os

import dramatiq
from django.conf import settings
from dramatiq.middleware import CurrentMessage, Interrupt

from config.errors import describe
from orders import baking

MAX_RETRIES = 3


@dramatiq.actor(
    queue_name="orders",
    max_retries=MAX_RETRIES,
    min_backoff=2_000,  # ms; then 4 s, 8 s ... (Dramatiq's exponential backoff, jittered)
    max_backoff=30_000,
    time_limit=60_000,  # a bake takes seconds; a stuck one is interrupted and retried
)
def bake_special_order(order_id: int) -> None:
    """Bake special order ``order_id`` and email its customer; idempotent.

    Sent again for a ``READY`` order (``services.special_order_email_again``), it only
    emails. On the last allowed attempt a failure is recorded on the order
    (``baking.special_order_fail``).
    """
    try:
        baking.special_order_bake(order_id=order_id, baker=f"{settings.CLONE_NAME}/{os.getpid()}")
    except (Exception, Interrupt) as error:  # Interrupt: e.g. TimeLimitExceeded
        message = CurrentMessage.get_current_message()
        if message is not None and message.options.get("retries", 0) >= MAX_RETRIES:
            reason = f"Gave up after retries: {describe(error, limit=1900)}"
            baking.special_order_fail(order_id=order_id, reason=reason)
        raise
