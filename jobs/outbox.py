"""Writes of the outbox: record a job inside the caller's transaction, send it after commit.

Why and how: ``docs/lessons/4.2-special-orders.md``."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

import dramatiq
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from core.breaker import Breaker
from core.errors import describe
from core.request_id import current_request_id
from jobs.errors import BrokerUnavailableError, OutsideTransactionError
from jobs.models import OutboxMessage
from replication.lsn import lsn_format, primary_current_lsn

logger = logging.getLogger(__name__)

FAST_PATH_PAUSE_SECONDS = 5.0
fast_path = Breaker(pause_seconds=FAST_PATH_PAUSE_SECONDS)


def outbox_enqueue(
    *, actor: dramatiq.Actor, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
) -> OutboxMessage:
    """Record a job for ``actor`` in the open transaction; it is sent once that commits.

    Arguments must be JSON values (IDs, not model instances). Raises
    ``OutsideTransactionError`` outside ``transaction.atomic``: without the caller's
    transaction, the job and the data it is about could be committed apart.
    """
    if not transaction.get_connection().in_atomic_block:
        raise OutsideTransactionError(f"outbox_enqueue({actor.actor_name}) needs an atomic block")
    row = OutboxMessage.objects.create(
        actor_name=actor.actor_name,
        queue_name=actor.queue_name,
        args=list(args),
        kwargs=kwargs or {},
        request_id=current_request_id() or "",
    )
    transaction.on_commit(partial(outbox_send_now, row_id=row.pk))
    return row


def outbox_send_now(*, row_id: int) -> bool:
    """The fast path, right after commit: send one row unless it is sent or being sent.

    Never raises: when the broker is unreachable the row stays unsent for the relay, and
    the request that placed the job carries on. Within ``FAST_PATH_PAUSE_SECONDS`` of a
    failed fast send in this process it does not try at all. True if this call sent it.
    """
    if fast_path.is_open():
        return False
    try:
        with transaction.atomic():
            row = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=row_id, sent_at__isnull=True)
                .first()
            )
            if row is None:  # sent already, or the relay holds it right now
                return False
            _send(row)
    except Exception as error:  # noqa: BLE001  (any failure: the relay sends it later)
        fast_path.failed()
        logger.warning(
            "outbox: job %s left for the relay, as are this process's next %ss of jobs: %s",
            row_id,
            FAST_PATH_PAUSE_SECONDS,
            describe(error),
        )
        _note_failure(row_id, error)
        return False
    fast_path.succeeded()
    return True


def outbox_send_due(*, limit: int = 100) -> int:
    """Send up to ``limit`` unsent rows, oldest first; return how many were sent.

    Each row is sent and marked in a transaction of its own, so a crash or a failed
    commit re-sends at most the row in hand, never a whole batch. Rows locked by another
    sender are skipped, so any number of relays (and the fast paths of every clone) can
    run at once without sending a row twice. A broker error ends the batch (the rows
    sent before it stay sent) and raises ``BrokerUnavailableError``, so the caller can
    back off; a database error propagates as the ``DatabaseError`` it is.
    """
    sent = 0
    while sent < limit and _send_oldest_unsent():
        sent += 1
    return sent


def _send_oldest_unsent() -> bool:
    """Send the oldest unsent row nobody else holds; False when there is none."""
    with transaction.atomic():
        row = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True)
            .first()
        )
        if row is None:
            return False
        try:
            _send(row)
        except DatabaseError:
            raise
        except Exception as error:  # noqa: BLE001  (whatever the broker's client raises)
            refused = error  # nothing was written: the transaction only held the row's lock
        else:
            return True
    _note_failure(row.pk, refused)
    raise BrokerUnavailableError(f"broker refused job {row.pk}: {describe(refused)}") from refused


def outbox_prune_sent(*, older_than: timedelta) -> int:
    """Delete rows sent longer ago than ``older_than``; return how many."""
    cutoff = timezone.now() - older_than
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=cutoff).delete()
    return deleted


def _send(row: OutboxMessage) -> None:
    """Enqueue ``row`` on the broker and mark it sent (in the caller's transaction)."""
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=row.queue_name,
        actor_name=row.actor_name,
        args=tuple(row.args),
        kwargs=row.kwargs,
        options={"lsn": lsn_format(primary_current_lsn()), "request_id": row.request_id or None},
        message_id=str(row.message_id),
        message_timestamp=int(row.created_at.timestamp() * 1000),
    )
    dramatiq.get_broker().enqueue(message)
    row.sent_at = timezone.now()
    row.save(update_fields=["sent_at"])


def _note_failure(row_id: int, error: BaseException) -> None:
    try:
        OutboxMessage.objects.filter(pk=row_id, sent_at__isnull=True).update(
            attempts=F("attempts") + 1, last_error=describe(error)
        )
    except Exception:
        logger.exception("outbox: could not record the failure of job %s", row_id)
