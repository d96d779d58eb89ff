"""Baking a special order: the worker's side, safe to run any number of times per order.

A message can arrive twice (the outbox relay re-sends after a crash between send and
bookkeeping; the broker redelivers the job of a worker that died), so every step is
guarded by the order's row in PostgreSQL:

1. ``QUEUED``/``BAKING`` → ``BAKING`` is committed (the status page shows it), counting
   ``attempts``. A ``BAKING`` order is baked again: its last baker died, or its message
   would not have come back.
2. The bake runs in a transaction holding the order's row lock (``FOR UPDATE SKIP
   LOCKED``): a second message for the same order finds the row locked and stops, and
   the lock dies with the baker's connection, so a killed worker blocks nobody. The
   picture goes to a fixed path in shared media, and ``BAKING`` → ``READY`` is the one
   commit point: before it nothing is visible; after it, no message bakes again.
3. The email is claimed with a conditional update of ``notified_at`` and then sent, so
   it goes at most once (a worker killed between claim and send loses that email rather
   than ever sending two); a failed or interrupted send releases the claim for the retry.
   Every message ends with this step, whatever steps 1 and 2 did: a message redelivered
   after its worker died between ``READY`` and the email still sends it.

The rows that decide what to do are read from the primary. The job's other reads may go
to a replica that has the order (``jobs.middleware``), but a redelivered message can
find one that has not replayed ``READY`` yet, and would then take a baked order for one
still in the oven.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from catalog.models import Picture
from config.read_routing import PRIMARY
from orders.models import SpecialOrder
from orders.notifications import special_order_ready_email
from orders.rendering import render_writing

logger = logging.getLogger(__name__)
Status = SpecialOrder.Status
IN_THE_OVEN = [Status.QUEUED, Status.BAKING]


def special_order_bake(*, order_id: int, baker: str) -> None:
    """Bake order ``order_id`` unless it is baked or being baked; email the customer once
    it is ``READY`` (on a ``READY`` order, only the email, if it has not gone yet)."""
    order = _on_primary(order_id).first()
    if order is None:
        logger.warning("order %s does not exist (deleted?); nothing to bake", order_id)
        return
    if order.status in IN_THE_OVEN:
        picture = _picture_path(order.product_id)
        if _start(order_id=order_id, baker=baker) and _bake(order, picture=picture):
            logger.info("order %s baked by %s", order.uuid, baker)
        else:
            logger.info("order %s is being baked by another worker, or is done", order.uuid)
    _notify_once(order_id=order_id)  # a no-op unless READY and not yet emailed


def special_order_fail(*, order_id: int, reason: str) -> bool:
    """Record that the last retry failed; False if there was nothing to record.

    An order still in the oven becomes ``FAILED`` with ``reason`` (staff can bake it
    again). A ``READY`` order whose email never went stays ``READY`` (the cake is baked)
    and keeps ``reason`` as its ``notification_error`` (staff can email it again).
    """
    reason, now = reason[:2000], timezone.now()
    orders = SpecialOrder.objects.filter(pk=order_id)
    if orders.filter(status__in=IN_THE_OVEN).update(
        status=Status.FAILED, failure_reason=reason, updated_at=now
    ):
        return True
    unsent = orders.filter(status=Status.READY, notified_at__isnull=True)
    return bool(unsent.update(notification_error=reason, updated_at=now))


def _on_primary(order_id: int) -> QuerySet[SpecialOrder]:
    return SpecialOrder.objects.using(PRIMARY).select_related("product").filter(pk=order_id)


def _picture_path(product_id: int) -> Path | None:
    picture = Picture.objects.filter(product_id=product_id).order_by("order", "id").first()
    if picture is None or "://" in picture.image:
        return None
    return Path(settings.MEDIA_ROOT) / picture.image


def _start(*, order_id: int, baker: str) -> bool:
    """Step 1: commit ``BAKING``; False when another worker holds the order or it is done."""
    with transaction.atomic():
        order = (
            SpecialOrder.objects.select_for_update(skip_locked=True)
            .filter(pk=order_id, status__in=IN_THE_OVEN)
            .first()
        )
        if order is None:
            return False
        SpecialOrder.objects.filter(pk=order_id).update(
            status=Status.BAKING,
            attempts=F("attempts") + 1,
            baker=baker[:100],
            updated_at=timezone.now(),
        )
    return True


def _bake(order: SpecialOrder, *, picture: Path | None) -> bool:
    """Step 2: render, store and commit ``READY`` under the row lock; False if not ours."""
    with transaction.atomic():
        locked = (
            SpecialOrder.objects.select_for_update(skip_locked=True)
            .filter(pk=order.pk, status=Status.BAKING)
            .first()
        )
        if locked is None:
            return False
        time.sleep(settings.SPECIAL_ORDER_BAKE_SECONDS)  # the oven
        png = render_writing(writing=order.writing, picture=picture)
        name = f"orders/{order.uuid}.png"
        if default_storage.exists(name):  # a bake that died before READY left it
            default_storage.delete(name)
        stored = default_storage.save(name, ContentFile(png))
        now = timezone.now()
        SpecialOrder.objects.filter(pk=order.pk).update(
            status=Status.READY, image=stored, ready_at=now, failure_reason="", updated_at=now
        )
    return True


def _notify_once(*, order_id: int) -> None:
    """Step 3: email the customer of a ``READY`` order unless someone already did."""
    claimed = SpecialOrder.objects.filter(
        pk=order_id, status=Status.READY, notified_at__isnull=True
    ).update(notified_at=timezone.now())
    if not claimed:
        return
    try:
        order = _on_primary(order_id).get()  # READY with its picture: never a lagging copy
        special_order_ready_email(order=order)
    except BaseException:  # also the worker's TimeLimitExceeded, which is no Exception
        SpecialOrder.objects.filter(pk=order_id).update(notified_at=None)
        raise
    logger.info("order %s: customer emailed", order.uuid)
