"""Reads of special orders."""

from typing import Any
from uuid import UUID

from django.core.files.storage import default_storage
from django.db.models import Count, Min
from django.http import Http404
from django.utils import timezone

from orders.models import SpecialOrder


def special_order_get(*, order_uuid: UUID) -> SpecialOrder:
    try:
        return SpecialOrder.objects.select_related("product").get(uuid=order_uuid)
    except SpecialOrder.DoesNotExist:
        raise Http404("No such order.") from None


# What a shopper reads under the status. Fixed texts: why a bake failed (an exception,
# with file paths or database hosts) is for staff, who read it in the admin.
EXPLANATIONS = {
    SpecialOrder.Status.QUEUED: "Your order is queued: the next free baker takes it.",
    SpecialOrder.Status.BAKING: "A baker is writing on your cake right now.",
    SpecialOrder.Status.READY: "Your cake is ready. We have emailed you.",
    SpecialOrder.Status.FAILED: (
        "Sorry, we could not bake this order. Our staff have been told and can start it again."
    ),
}


def special_order_status(*, order: SpecialOrder) -> dict[str, str | None]:
    """What the status page shows and polls: plain JSON-ready values, nothing internal."""
    ready = order.status == SpecialOrder.Status.READY and order.image
    return {
        "uuid": str(order.uuid),
        "status": order.status,
        "status_display": order.get_status_display(),
        "explanation": EXPLANATIONS[SpecialOrder.Status(order.status)],
        "image_url": default_storage.url(order.image) if ready else None,
        "updated_at": order.updated_at.isoformat(),
    }


def special_order_queue_figures() -> dict[str, Any]:
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
