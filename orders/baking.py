"""Baking a special order: the worker's side, safe to run any number of times per order.

Why and how: ``docs/lessons/4.2-special-orders.md``."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connections, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from catalog.models import Picture
from orders.models import SpecialOrder
from orders.notifications import special_order_ready_email
from orders.rendering import render_writing
from replication.databases import PRIMARY

logger = logging.getLogger(__name__)
Status = SpecialOrder.Status
IN_THE_OVEN = [Status.QUEUED, Status.BAKING]
# The bake claim's advisory lock is (CLAIM_CLASS, order id in 31 bits). Two orders whose
# ids differ by a multiple of 2**31 share a claim: the second's message then stops as if
# the first were its bake, and the stuck-order sweep sends its job again later.
CLAIM_CLASS = 42_001


def special_order_bake(
    *, order_id: int, baker: str, max_attempts: int, trivial: bool = False
) -> None:
    """Bake order ``order_id`` unless it is baked or being baked; email the customer once
    it is ``READY`` (on a ``READY`` order, only the email, if it has not gone yet).

    An order that has already started ``max_attempts`` bakes becomes ``FAILED``.
    ``trivial``: no oven time and a plain cake, the same steps otherwise (`make bench`).
    """
    order = _on_primary(order_id).first()
    if order is None:
        logger.warning("order %s does not exist (deleted?); nothing to bake", order_id)
        return
    if order.status in IN_THE_OVEN:
        picture = None if trivial else _picture_name(order.product_id)
        with _bake_claim(order_id) as claimed:
            attempt = (
                _start(order_id=order_id, baker=baker, max_attempts=max_attempts)
                if claimed
                else None
            )
            oven = 0.0 if trivial else settings.SPECIAL_ORDER_BAKE_SECONDS
            if attempt is not None and _bake(order, attempt=attempt, picture=picture, oven=oven):
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


@contextmanager
def _bake_claim(order_id: int) -> Iterator[bool]:
    """Step 1: hold the order's bake claim for the ``with`` block; yields False, holding
    nothing, when another live worker holds it."""
    key = (CLAIM_CLASS, order_id & 0x7FFF_FFFF)
    primary = connections[PRIMARY]
    with primary.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        claimed = bool(cursor.fetchone()[0])
    try:
        yield claimed
    finally:
        if claimed:
            try:
                with primary.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
            except DatabaseError:
                primary.close()  # a broken connection: closing it is what frees the claim


def _start(*, order_id: int, baker: str, max_attempts: int) -> int | None:
    """Step 2: commit ``BAKING`` and return this attempt's number; None when another
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


def _bake(order: SpecialOrder, *, attempt: int, picture: str | None, oven: float) -> bool:
    """Step 3: render, store and commit ``READY`` under the row lock; False if the order
    is locked by another worker, no longer ``BAKING``, or started again since ``attempt``."""
    with transaction.atomic():
        locked = (
            SpecialOrder.objects.select_for_update(skip_locked=True)
            .filter(pk=order.pk, status=Status.BAKING, attempts=attempt)
            .first()
        )
        if locked is None:
            return False
        time.sleep(oven)
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
    """Step 4: email the customer of a ``READY`` order unless it was emailed or another
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
