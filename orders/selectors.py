"""Reads of special orders."""

from uuid import UUID

from django.conf import settings
from django.db.models import Count, Min
from django.http import Http404
from django.utils import timezone

from orders.models import SpecialOrder


def special_order_get(*, order_uuid: UUID) -> SpecialOrder:
    try:
        return SpecialOrder.objects.select_related("product").get(uuid=order_uuid)
    except SpecialOrder.DoesNotExist:
        raise Http404("No such order.") from None


def special_order_status(*, order: SpecialOrder) -> dict[str, str | None]:
    """What the status page polls: plain JSON-ready values."""
    ready = order.status == SpecialOrder.Status.READY and order.image
    return {
        "uuid": str(order.uuid),
        "status": order.status,
        "status_display": order.get_status_display(),
        "failure_reason": order.failure_reason or None,
        "image_url": f"{settings.MEDIA_URL}{order.image}" if ready else None,
        "updated_at": order.updated_at.isoformat(),
    }


def special_order_queue_figures() -> dict[str, object]:
    """Orders per state and how long the oldest queued one has waited (admin, /healthz)."""
    counts = dict(SpecialOrder.objects.order_by().values_list("status").annotate(n=Count("id")))
    oldest = SpecialOrder.objects.filter(status=SpecialOrder.Status.QUEUED).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    return {
        "by_status": {status: counts.get(status, 0) for status in SpecialOrder.Status.values},
        "oldest_queued_seconds": None
        if oldest is None
        else round((timezone.now() - oldest).total_seconds(), 1),
    }
