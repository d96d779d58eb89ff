"""The project's exception base, and describing errors for people (health reports, logs)."""

import re

URL_PASSWORD = re.compile(r"(://[^:/@\s]*):[^@/\s]*@")


def without_url_passwords(text: str) -> str:
    """``text`` with the password of every URL in it replaced (``redis://:<secret>@host``)."""
    return URL_PASSWORD.sub(r"\1:<secret>@", text)


def describe(error: BaseException, *, limit: int = 500) -> str:
    """``"TypeName: message"`` of ``error``, cut to ``limit`` characters, URL passwords hidden.

    For error columns and logs: the type says what failed even when the message is
    empty, and the cut keeps one bad error from filling a row or a page. A broker or
    database error may quote the URL it was given, password included; that never
    leaves this function.
    """
    return without_url_passwords(f"{type(error).__name__}: {error}".strip())[:limit]


class ShopError(Exception):
    """Base of every error the project's apps raise on purpose."""
