"""Exceptions of the cart."""

from core.errors import ShopError


class CartError(ShopError):
    """The cart cannot take this change; the message says why, for the shopper."""
