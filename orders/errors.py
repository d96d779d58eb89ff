"""Exceptions of special orders."""

from config.errors import ShopError


class OrdersError(ShopError):
    """Base class of the errors raised by ``orders``."""


class ProductUnavailableError(OrdersError):
    """The product was deleted or unpublished before the order could be recorded."""


class OrderBusyError(OrdersError):
    """A worker holds the order right now (baking it or emailing its customer)."""
