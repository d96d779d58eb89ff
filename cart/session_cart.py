"""A shopper's cart, kept in the session (so in Redis, shared by every clone).

Why and how: ``docs/lessons/1-clones.md``."""

from __future__ import annotations

from collections.abc import Collection

from django.contrib.sessions.backends.base import SessionBase

from cart.errors import CartError

SESSION_KEY = "cart"
MAX_QUANTITY = 99
MAX_LINES = 50


class SessionCart:
    def __init__(self, session: SessionBase) -> None:
        self._session = session

    @property
    def lines(self) -> dict[str, int]:
        """Product slug → quantity, in the order they were added."""
        return dict(self._session.get(SESSION_KEY, {}))

    @property
    def count(self) -> int:
        return sum(self.lines.values())

    def add(self, *, slug: str, quantity: int = 1) -> None:
        """Add ``quantity`` of ``slug``; raises ``CartError`` saying why it cannot."""
        lines = self.lines
        if quantity < 1:
            raise CartError("Add at least one.")
        if slug not in lines and len(lines) >= MAX_LINES:
            raise CartError(f"A cart holds at most {MAX_LINES} different products.")
        new_quantity = lines.get(slug, 0) + quantity
        if new_quantity > MAX_QUANTITY:
            raise CartError(f"At most {MAX_QUANTITY} of one product per order.")
        lines[slug] = new_quantity
        self._save(lines)

    def remove(self, *, slug: str) -> None:
        lines = self.lines
        lines.pop(slug, None)
        self._save(lines)

    def keep_only(self, *, slugs: Collection[str]) -> None:
        """Drop the lines whose slug is not in ``slugs``; the session is written only if
        that changes the cart (a plain read must not cost a session save)."""
        lines = self.lines
        kept = {slug: quantity for slug, quantity in lines.items() if slug in slugs}
        if kept != lines:
            self._save(kept)

    def _save(self, lines: dict[str, int]) -> None:
        if lines == self.lines:
            return  # unchanged: no session write
        if lines:
            self._session[SESSION_KEY] = lines
        else:
            self._session.pop(SESSION_KEY, None)
