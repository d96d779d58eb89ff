"""Exceptions of special orders."""


class OrdersError(Exception):
    """Base class of the errors raised by ``orders``."""


class ProductUnavailableError(OrdersError):
    """The product was deleted or unpublished before the order could be recorded."""
