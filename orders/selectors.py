"""Reads of special orders."""

from uuid import UUID

from django.http import Http404

from orders.models import SpecialOrder


def special_order_get(*, order_uuid: UUID) -> SpecialOrder:
    try:
        return SpecialOrder.objects.select_related("product").get(uuid=order_uuid)
    except SpecialOrder.DoesNotExist:
        raise Http404("No such order.") from None


def special_order_status(*, order: SpecialOrder) -> dict[str, str | None]:
    """What the status page polls: plain JSON-ready values."""
    return {
        "uuid": str(order.uuid),
        "status": order.status,
        "status_display": order.get_status_display(),
        "failure_reason": order.failure_reason or None,
        "updated_at": order.updated_at.isoformat(),
    }
