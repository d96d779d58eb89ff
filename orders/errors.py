"""Exceptions of special orders."""

from core.errors import ShopError


class OrdersError(ShopError):
    """Base class of the errors raised by ``orders``."""


class ProductUnavailableError(OrdersError):
    """The product was deleted or unpublished before the order could be recorded."""


class OrderBusyError(OrdersError):
    """A worker holds the order right now (baking it or emailing its customer)."""


class CakeFontMissingError(OrdersError):
    """The font the writing is drawn in (``CAKE_FONT_PATH``) is missing or unreadable."""


class UndrawableWritingError(OrdersError):
    """The writing holds characters the cake font cannot draw."""


class RateLimitUnavailableError(OrdersError):
    """The order form's counters cannot be reached: no order is taken (fail closed)."""


class OrderLimitError(OrdersError):
    """The email address has had its orders for the day; the message says so."""
