"""Exceptions of the job plumbing."""

from core.errors import ShopError


class JobsError(ShopError):
    """Base class of the errors raised by ``jobs``."""


class OutsideTransactionError(JobsError):
    """A job was recorded outside the transaction of the data it is about."""


class BrokerUnavailableError(JobsError):
    """The broker did not take a message; it stays in the outbox for the next try."""
