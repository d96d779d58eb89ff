"""Writes of special orders."""

from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import Product
from jobs.outbox import outbox_enqueue
from orders.actors import STUCK_AFTER, bake_special_order
from orders.errors import ProductUnavailableError
from orders.models import SpecialOrder

Status = SpecialOrder.Status


@transaction.atomic
def special_order_place(
    *, product: Product, writing: str, pickup_date: date, customer_email: str
) -> SpecialOrder:
    """Record a special order as QUEUED together with its baking job (one transaction).

    The job reaches the broker right after commit, or later through the outbox relay if
    the broker is down: a placed order is never lost, only delayed. Raises
    ``ProductUnavailableError`` when ``product`` is no longer published on the primary.
    """
    # The form found the product on a replica, which may not have replayed its deletion
    # or unpublishing yet. Checked again on the primary, and locked until this commits,
    # so it can be neither until the order holds it (concurrent orders for the same
    # product wait for each other only for this short transaction).
    current = (
        Product.objects.select_for_update(no_key=True).filter(pk=product.pk, published=True).first()
    )
    if current is None:
        raise ProductUnavailableError(f"{product.name} can no longer be ordered.")
    order = SpecialOrder.objects.create(
        product=current,
        writing=writing,
        pickup_date=pickup_date,
        customer_email=customer_email,
    )
    outbox_enqueue(actor=bake_special_order, args=(order.pk,))
    return order


def special_order_retry(*, order_id: int) -> bool:
    """Queue a FAILED or stuck order again (staff, from the admin); False if it is
    neither. The order starts over: its ``attempts`` count from zero again."""
    return _send_job_again(
        order_id=order_id,
        when=Q(status=Status.FAILED) | _stuck(),
        status=Status.QUEUED,
        failure_reason="",
        attempts=0,
    )


def special_order_email_again(*, order_id: int) -> bool:
    """Email the customer of a READY order again (staff, from the admin), e.g. after the
    email failed on every retry; False if the order is not READY.

    The order's job is sent again: on a READY order it only emails, once.
    """
    return _send_job_again(
        order_id=order_id, when=Q(status=Status.READY), notified_at=None, notification_error=""
    )


def special_orders_resend_stuck(*, limit: int = 100) -> int:
    """Send the job of every stuck order again; return how many (the periodic sweep).

    Stuck: ``QUEUED`` or ``BAKING`` with no progress for ``STUCK_AFTER``, longer than
    all of a job's attempts can take, so its job is lost (dead-lettered while the
    database was down, say). The job is idempotent, so one that was only slow costs a
    message that finds nothing to do. Each order sent again counts as progress, so it is
    sent again at most once per ``STUCK_AFTER``; its ``attempts`` keep counting, so an
    order that can never be baked ends ``FAILED``. Safe to run in several processes at
    once: rows being sent by another are skipped.
    """
    with transaction.atomic():
        stuck = list(
            SpecialOrder.objects.select_for_update(skip_locked=True)
            .filter(_stuck())
            .order_by("updated_at")
            .values_list("pk", flat=True)[:limit]
        )
        SpecialOrder.objects.filter(pk__in=stuck).update(updated_at=timezone.now())
        for order_id in stuck:
            outbox_enqueue(actor=bake_special_order, args=(order_id,))
    return len(stuck)


def _stuck() -> Q:
    return Q(status__in=[Status.QUEUED, Status.BAKING], updated_at__lt=timezone.now() - STUCK_AFTER)


@transaction.atomic
def _send_job_again(*, order_id: int, when: Q, **changes: object) -> bool:
    """Apply ``changes`` to the order if it matches ``when``, and queue its job again."""
    changed = SpecialOrder.objects.filter(when, pk=order_id).update(
        **changes, updated_at=timezone.now()
    )
    if changed:
        outbox_enqueue(actor=bake_special_order, args=(order_id,))
    return bool(changed)
