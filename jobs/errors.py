"""Exceptions of the job plumbing."""


class JobsError(Exception):
    """Base class of the errors raised by ``jobs``."""


class OutsideTransactionError(JobsError):
    """A job was recorded outside the transaction of the data it is about."""


class BrokerUnavailableError(JobsError):
    """The broker did not take a message; it stays in the outbox for the next try."""
