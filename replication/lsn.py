"""PostgreSQL WAL positions (LSNs): read them, compare them, carry them.

An LSN such as ``16/B374D848`` names a point in the primary's write-ahead log. A
replica whose replay LSN has reached a write's LSN has applied that write.
"""

from django.db import connections

from replication.databases import PRIMARY

Lsn = int


def lsn_parse(text: str) -> Lsn:
    """``"16/B374D848"`` → an integer that orders like the WAL; ``ValueError`` if malformed."""
    high, sep, low = text.strip().partition("/")
    if not sep:
        raise ValueError(f"Not an LSN: {text!r}")
    return (int(high, 16) << 32) + int(low, 16)


def lsn_format(lsn: Lsn) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def primary_current_lsn() -> Lsn:
    """The primary's current WAL position: every write committed so far is at or before it."""
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (text,) = cursor.fetchone()
    return lsn_parse(text)
