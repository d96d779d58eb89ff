"""Baking a special order: the worker's side, safe to run any number of times per order.

A message can arrive twice (the outbox relay re-sends after a crash between send and
bookkeeping; the broker redelivers the job of a worker that died; the stuck-order sweep
re-sends a job that looks lost), so every step is guarded by the order's row in
PostgreSQL:

1. Start: ``QUEUED``/``BAKING`` → ``BAKING`` is committed (the status page shows it),
   counting ``attempts`` and naming the ``baker``. A ``BAKING`` order is started again:
   its last baker died, or its message would not have come back. An order that has
   already started ``max_attempts`` bakes becomes ``FAILED`` instead: its worker died
   every time (a killed worker never reaches Dramatiq's retry count).
2. Bake: in a transaction holding the order's row lock (``FOR UPDATE SKIP LOCKED``), and
   only if the row still shows this message's attempt. The picture goes to a fixed path
   in shared media, and ``BAKING`` → ``READY`` is the one commit point: before it
   nothing is visible; after it, no message bakes again. The lock dies with the baker's
   connection, so a killed worker blocks nobody.
   A second message for the order meanwhile finds the row locked at step 1 and stops
   without touching it. No lock is held *between* steps 1 and 2: a second message
   arriving in that instant starts the order again (one more attempt, its own baker),
   and the first then finds its attempt superseded at step 2 and stops. Either way the
   order is baked once, by the worker ``baker`` names.
3. Email: sent in a transaction holding the row lock, which commits ``notified_at`` once
   the mail server has the email. A second message finds the row locked or the email
   sent, and stops. A send that fails, is interrupted or whose worker dies commits
   nothing (the lock dies with the connection), so the retried or redelivered message
   sends it. Only a worker dying between the mail server taking the email and that
   commit would send it twice. Every message ends with this step, whatever steps 1 and
   2 did: a message redelivered after its worker died between ``READY`` and the email
   still sends it.

The rows that decide what to do are read from the primary. The job's other reads may go
to a replica that has the order (``jobs.middleware``), but a redelivered message can
find one that has not replayed ``READY`` yet, and would then take a baked order for one
still in the oven.
"""

from __future__ import annotations

import logging
import time

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


def special_order_bake(*, order_id: int, baker: str, max_attempts: int) -> None:
    """Bake order ``order_id`` unless it is baked or being baked; email the customer once
    it is ``READY`` (on a ``READY`` order, only the email, if it has not gone yet).

    An order that has already started ``max_attempts`` bakes becomes ``FAILED``.
    """
    order = _on_primary(order_id).first()
    if order is None:
        logger.warning("order %s does not exist (deleted?); nothing to bake", order_id)
        return
    if order.status in IN_THE_OVEN:
        picture = _picture_name(order.product_id)
        attempt = _start(order_id=order_id, baker=baker, max_attempts=max_attempts)
        if attempt is not None and _bake(order, attempt=attempt, picture=picture):
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


def _picture_name(product_id: int) -> str | None:
    """The product's first picture as a name in ``default_storage``; None for none, or
    for a picture given as a URL (the cake is drawn plain then)."""
    picture = Picture.objects.filter(product_id=product_id).order_by("order", "id").first()
    if picture is None or picture.image.startswith(("http://", "https://", "/")):
        return None
    return picture.image


def _read_picture(name: str | None) -> bytes | None:
    if name is None or not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as source:
        return source.read()


def _start(*, order_id: int, baker: str, max_attempts: int) -> int | None:
    """Step 1: commit ``BAKING`` and return this attempt's number; None when another
    worker holds the order, it is done, or it has used up its attempts (then FAILED)."""
    with transaction.atomic():
        order = (
            SpecialOrder.objects.select_for_update(skip_locked=True)
            .filter(pk=order_id, status__in=IN_THE_OVEN)
            .first()
        )
        if order is None:
            return None
        orders, now = SpecialOrder.objects.filter(pk=order_id), timezone.now()
        if order.attempts >= max_attempts:
            reason = (
                f"Gave up after {order.attempts} bakes were started without finishing "
                "(did the worker die each time, e.g. out of memory?)"
            )
            orders.update(status=Status.FAILED, failure_reason=reason, updated_at=now)
            logger.warning("order %s FAILED: %s", order.uuid, reason)
            return None
        orders.update(
            status=Status.BAKING, attempts=F("attempts") + 1, baker=baker[:100], updated_at=now
        )
    return order.attempts + 1


def _bake(order: SpecialOrder, *, attempt: int, picture: str | None) -> bool:
    """Step 2: render, store and commit ``READY`` under the row lock; False if the order
    is locked by another worker, no longer ``BAKING``, or started again since ``attempt``."""
    with transaction.atomic():
        locked = (
            SpecialOrder.objects.select_for_update(skip_locked=True)
            .filter(pk=order.pk, status=Status.BAKING, attempts=attempt)
            .first()
        )
        if locked is None:
            return False
        time.sleep(settings.SPECIAL_ORDER_BAKE_SECONDS)  # the oven
        png = render_writing(writing=order.writing, picture=_read_picture(picture))
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
    """Step 3: email the customer of a ``READY`` order unless it was emailed or another
    worker is emailing it right now."""
    with transaction.atomic():
        order = (
            _on_primary(order_id)  # READY with its picture: never a lagging copy
            .select_for_update(skip_locked=True, of=("self",))  # not the product's row
            .filter(status=Status.READY, notified_at__isnull=True)
            .first()
        )
        if order is None:
            return
        special_order_ready_email(order=order)
        SpecialOrder.objects.filter(pk=order_id).update(notified_at=timezone.now())
    logger.info("order %s: customer emailed", order.uuid)
