"""The email a customer gets when the special order is ready."""

from django.conf import settings
from django.core.mail import send_mail

from orders.models import SpecialOrder


def special_order_ready_email(*, order: SpecialOrder) -> None:
    """Send the "your cake is ready" email through Django's email backend; raises on failure."""
    base = settings.SHOP_PUBLIC_URL.rstrip("/")
    body = (
        f"Hello,\n\nyour {order.product.name} with “{order.writing}” is ready. "
        f"Pick it up on {order.pickup_date:%A %d %B %Y}.\n\n"
        f"Your order: {base}{order.get_absolute_url()}\n"
        f"Its picture: {base}{settings.MEDIA_URL}{order.image}\n\n"
        "Scaleshop bakery\n"
    )
    send_mail(
        subject=f"Your special order is ready ({order.uuid})",
        message=body,
        from_email=None,  # DEFAULT_FROM_EMAIL
        recipient_list=[order.customer_email],
    )
