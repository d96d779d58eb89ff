"""Baking a special order: the worker's side, safe to run any number of times per order.

A message can arrive twice (the outbox relay re-sends after a crash between send and
bookkeeping; the broker redelivers the job of a worker that died; the stuck-order sweep
re-sends a job that looks lost but may only have been slow), so every step is guarded in
PostgreSQL:

1. Claim: an order is baked only by the worker holding its *bake claim*, a session-level
   advisory lock on the primary, taken before step 2 and released after step 3. A
   message that finds the claim held stops: a live worker is baking the order. The claim
   dies with its worker's connection, so a killed worker blocks nobody.
2. Start: ``QUEUED``/``BAKING`` → ``BAKING`` is committed (the status page shows it),
   counting ``attempts`` and naming the ``baker``. A ``BAKING`` order found with its
   claim free was abandoned: its last baker died, or its bake raised and waits for its
   retry. So every attempt after the first follows an abandoned one, and an order that
   has already started ``max_attempts`` bakes becomes ``FAILED`` instead: its worker
   died every time (a killed worker never reaches Dramatiq's retry count). Duplicate
   messages cannot add attempts while a bake is alive, so they never fail a healthy
   order.
3. Bake: in a transaction holding the order's row lock (``FOR UPDATE SKIP LOCKED``), and
   only if the row still shows this attempt. The picture goes to a fixed path in shared
   media, and ``BAKING`` → ``READY`` is the one commit point: before it nothing is
   visible; after it, no message bakes again.
4. Email: sent in a transaction holding the row lock, which commits ``notified_at`` once
   the mail server has the email. A second message finds the row locked or the email
   sent, and stops. A send that fails, is interrupted or whose worker dies commits
   nothing (the lock dies with the connection), so the retried or redelivered message
   sends it. Only a worker dying between the mail server taking the email and that
   commit would send it twice. Every message ends with this step, whatever steps 1-3
   did: a message redelivered after its worker died between ``READY`` and the email
   still sends it.

The trade-off of step 4: holding the row lock is what makes the email once-only, and the
row stays locked for as long as the mail server takes (``EMAIL_TIMEOUT`` per SMTP
operation, at most the job's time limit in all when a server hangs). Nothing that serves
people waits for it: workers and the stuck-order sweep skip locked rows, and the admin
actions lock with ``NOWAIT`` and tell staff the order is busy (``orders.services``). Only
a worker recording its last retry's failure (``special_order_fail``) waits.

The rows that decide what to do are read from the primary. The job's other reads may go
to a replica that has the order (``jobs.middleware``), but a redelivered message can
find one that has not replayed ``READY`` yet, and would then take a baked order for one
still in the oven.
"""

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
