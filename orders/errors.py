"""Exceptions of special orders."""

from config.errors import ShopError


class OrdersError(ShopError):
    """Base class of the errors raised by ``orders``."""


class ProductUnavailableError(OrdersError):
    """The product was deleted or unpublished before the order could be recorded."""
