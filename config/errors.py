"""The project's exception base, and describing errors for people (health reports, logs)."""


def describe(error: BaseException, *, limit: int = 500) -> str:
    """``"TypeName: message"`` of ``error``, cut to ``limit`` characters.

    For error columns and health reports: the type says what failed even when the
    message is empty, and the cut keeps one bad error from filling a row or a page.
    """
    return f"{type(error).__name__}: {error}".strip()[:limit]


class ShopError(Exception):
    """Base of every error the project's apps raise on purpose."""
