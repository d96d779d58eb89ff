"""The email a customer gets when the special order is ready."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import send_mail

from orders.models import SpecialOrder


def special_order_ready_email(*, order: SpecialOrder) -> None:
    """Send the "your cake is ready" email through Django's email backend; raises on failure."""
    base = settings.SHOP_PUBLIC_URL.rstrip("/")
    body = (
        f"Hello,\n\nyour {order.product.name} with “{order.writing}” is ready. "
        f"Pick it up on {order.pickup_date:%A %d %B %Y}.\n\n"
        f"Your order: {base}{order.get_absolute_url()}\n"
        f"Its picture: {_absolute(base, default_storage.url(order.image))}\n\n"
        "Scaleshop bakery\n"
    )
    send_mail(
        subject=f"Your special order is ready ({order.uuid})",
        message=body,
        from_email=None,  # DEFAULT_FROM_EMAIL
        recipient_list=[order.customer_email],
    )


def _absolute(base: str, url: str) -> str:
    """``url`` as a link that works in an email: storages such as S3 give full URLs
    already; the file system storage gives a path under ``MEDIA_URL``."""
    return url if urlsplit(url).scheme else f"{base}{url}"
