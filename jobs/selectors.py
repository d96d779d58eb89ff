"""Reads of the job plumbing: what waits in the outbox and in the broker."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Min
from django.utils import timezone

from core.errors import describe
from jobs.broker_figures import broker_queue_figures
from jobs.models import OutboxMessage

logger = logging.getLogger(__name__)


def outbox_unsent_figures() -> dict[str, Any]:
    """Jobs committed but not yet handed to the broker, and the age of the oldest."""
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True)
    figures = unsent.aggregate(oldest=Min("created_at"))
    oldest = figures["oldest"]
    return {
        "unsent": unsent.count(),
        "oldest_unsent_seconds": None
        if oldest is None
        else round((timezone.now() - oldest).total_seconds(), 1),
    }


def job_queue_figures() -> dict[str, Any]:
    """The outbox and the broker, for ``/healthz`` and the admin; never raises for an
    unreachable broker (``broker.ok`` is False then, with the error's type only: the
    message, which may name hosts, goes to the log)."""
    try:
        broker: dict[str, Any] = {"ok": True, **broker_queue_figures()}
    except Exception as error:  # noqa: BLE001  (any failure means "unreachable")
        logger.warning("The broker is unavailable: %s", describe(error))
        broker = {"ok": False, "error": type(error).__name__}
    return {"outbox": outbox_unsent_figures(), "broker": broker}
