"""Writes of special orders."""

from datetime import date, timedelta
from uuid import UUID

from django.conf import settings
from django.db import OperationalError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import Product
from jobs.models import OutboxMessage
from jobs.outbox import outbox_enqueue
from orders.actors import STUCK_AFTER, bake_special_order
from orders.errors import OrderBusyError, OrderLimitError, ProductUnavailableError
from orders.models import SpecialOrder
from replication.databases import PRIMARY

Status = SpecialOrder.Status
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for FOR UPDATE NOWAIT on a locked row
EMAIL_LOCK_CLASS = 42_002  # advisory locks (class, hash of an address): one order at a time


@transaction.atomic
def special_order_place(
    *,
    product: Product,
    writing: str,
    pickup_date: date,
    customer_email: str,
    idempotency_key: UUID | None = None,
    trivial_bake: bool = False,
) -> SpecialOrder:
    """Record a special order as QUEUED together with its baking job (one transaction).

    The job reaches the broker right after commit, or later through the outbox relay if
    the broker is down: a placed order is never lost, only delayed. Raises
    ``ProductUnavailableError`` when ``product`` is no longer published on the primary,
    and ``OrderLimitError`` when ``customer_email`` has placed
    ``SPECIAL_ORDER_EMAIL_DAILY_LIMIT`` orders in the last 24 hours.

    An order placed before with the same ``idempotency_key`` is returned as it is, with
    no second order or job: a shopper who could not tell whether the first try went
    through (an error during its commit) can simply try again.
    """
    if idempotency_key is not None:
        placed = SpecialOrder.objects.filter(idempotency_key=idempotency_key).first()
        if placed is not None:
            return placed
    _check_email_limit(customer_email)
    # The form found the product on a replica, which may not have replayed its deletion
    # or unpublishing yet. Checked again on the primary, and locked until this commits,
    # so it can be neither until the order holds it (concurrent orders for the same
    # product wait for each other only for this short transaction).
    current = (
        Product.objects.select_for_update(no_key=True).filter(pk=product.pk, published=True).first()
    )
    if current is None:
        raise ProductUnavailableError(f"{product.name} can no longer be ordered.")
    fields = {
        "product": current,
        "writing": writing,
        "pickup_date": pickup_date,
        "customer_email": customer_email,
    }
    if idempotency_key is None:
        order, created = SpecialOrder.objects.create(**fields), True
    else:  # a twin sent at the same moment waits for this commit, then gets this order
        order, created = SpecialOrder.objects.get_or_create(
            idempotency_key=idempotency_key, defaults=fields
        )
    if created:
        order.job = _queue_job(order.pk, trivial_bake=trivial_bake)
    return order


def _check_email_limit(email: str) -> None:
    """Raise ``OrderLimitError`` if ``email`` has had its orders of the last 24 hours.

    Counted in PostgreSQL, so the cap holds whichever Redis is down; an advisory lock on
    the address, held until this transaction ends, makes concurrent orders from one
    address count one after the other.
    """
    limit = settings.SPECIAL_ORDER_EMAIL_DAILY_LIMIT
    address = email.strip().lower()
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [EMAIL_LOCK_CLASS, address]
        )
    since = timezone.now() - timedelta(days=1)
    placed = SpecialOrder.objects.filter(customer_email__iexact=address, created_at__gte=since)
    if placed.count() >= limit:
        raise OrderLimitError(
            f"We bake at most {limit} special orders a day for one email address, and this "
            "one has had them: please order again tomorrow, or call the bakery."
        )


def special_order_retry(*, order_id: int) -> bool:
    """Queue a FAILED or stuck order again (staff, from the admin); False if it is
    neither. The order starts over: its ``attempts`` count from zero again.

    Raises ``OrderBusyError`` at once, instead of waiting, while a worker holds the order
    (baking it, or waiting for the mail server to take its email).
    """
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

    The order's job is sent again: on a READY order it only emails, once. Raises
    ``OrderBusyError`` at once while a worker holds the order (e.g. emailing it).
    """
    return _send_job_again(
        order_id=order_id, when=Q(status=Status.READY), notified_at=None, notification_error=""
    )


def special_orders_resend_stuck(*, limit: int = 100) -> int:
    """Send the job of every stuck order again; return how many (the periodic sweep).

    Stuck: ``QUEUED`` or ``BAKING``, and its last job reached the broker more than
    ``STUCK_AFTER`` ago, longer than all of a job's attempts can take, so that job is
    lost (dead-lettered while the database was down, say). "No progress" is counted from
    that send, not from the order's last change: an order whose job still waits in the
    outbox (the broker is down) is never stuck, however long it waits, since the relay
    sends that job once the broker is back. Each job sent again is the order's new last
    job, so an order is sent again at most once per ``STUCK_AFTER``. One that was only
    slow (behind a long queue) gets a second message, which finds it baked or being
    baked and does nothing: a duplicate never counts as a bake (``orders.baking``).

    Safe to run in several processes at once: rows locked by another are skipped.
    """
    with transaction.atomic():
        stuck = list(
            SpecialOrder.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(_stuck())
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        for order_id in stuck:
            _queue_job(order_id)
    return len(stuck)


def _stuck() -> Q:
    cutoff = timezone.now() - STUCK_AFTER
    sent_long_ago = Q(job__sent_at__lt=cutoff)
    # No job on record: placed by the release before ``SpecialOrder.job``, or its job was
    # pruned a week after it was sent. Counted from the order's last change.
    no_job = Q(job__isnull=True, updated_at__lt=cutoff)
    return Q(status__in=[Status.QUEUED, Status.BAKING]) & (sent_long_ago | no_job)


def _queue_job(order_id: int, *, trivial_bake: bool = False) -> OutboxMessage:
    """Record the order's baking job in the open transaction, as the order's last job."""
    kwargs = {"trivial_bake": True} if trivial_bake else None
    job = outbox_enqueue(actor=bake_special_order, args=(order_id,), kwargs=kwargs)
    SpecialOrder.objects.filter(pk=order_id).update(job=job, updated_at=timezone.now())
    return job


@transaction.atomic
def _send_job_again(*, order_id: int, when: Q, **changes: object) -> bool:
    """Apply ``changes`` to the order if it matches ``when``, and queue its job again.

    The row is locked with NOWAIT: a worker holds it while it bakes the order or while
    the mail server takes its email (``orders.baking``), which can take up to the job's
    time limit; staff are told the order is busy instead of their request hanging.
    """
    try:
        matched = list(
            SpecialOrder.objects.select_for_update(nowait=True, of=("self",))
            .filter(when, pk=order_id)
            .values_list("pk", flat=True)
        )
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise OrderBusyError(f"order {order_id} is being baked or emailed") from error
        raise
    if not matched:
        return False
    SpecialOrder.objects.filter(pk=order_id).update(**changes)
    _queue_job(order_id)
    return True
