"""Describing errors for people: health reports, error columns, logs."""


def describe(error: BaseException, *, limit: int = 500) -> str:
    """``"TypeName: message"`` of ``error``, cut to ``limit`` characters.

    For error columns and health reports: the type says what failed even when the
    message is empty, and the cut keeps one bad error from filling a row or a page.
    """
    return f"{type(error).__name__}: {error}".strip()[:limit]
