"""Writes of special orders."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from catalog.models import Product
from jobs.outbox import outbox_enqueue
from orders.actors import bake_special_order
from orders.models import SpecialOrder


@transaction.atomic
def special_order_place(
    *, product: Product, writing: str, pickup_date: date, customer_email: str
) -> SpecialOrder:
    """Record a special order as QUEUED together with its baking job (one transaction).

    The job reaches the broker right after commit, or later through the outbox relay if
    the broker is down: a placed order is never lost, only delayed.
    """
    order = SpecialOrder.objects.create(
        product=product,
        writing=writing,
        pickup_date=pickup_date,
        customer_email=customer_email,
    )
    outbox_enqueue(actor=bake_special_order, args=(order.pk,))
    return order


@transaction.atomic
def special_order_retry(*, order_id: int) -> bool:
    """Queue a FAILED order again (staff, from the admin); False if it was not FAILED."""
    requeued = SpecialOrder.objects.filter(pk=order_id, status=SpecialOrder.Status.FAILED).update(
        status=SpecialOrder.Status.QUEUED, failure_reason="", updated_at=timezone.now()
    )
    if requeued:
        outbox_enqueue(actor=bake_special_order, args=(order_id,))
    return bool(requeued)
