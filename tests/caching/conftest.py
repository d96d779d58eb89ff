"""Fixtures of the machinery's tests: the test app's books (``tests.testapp``), never the
demo shop's models."""

from __future__ import annotations

import pytest

from tests.caching.books import book_create
from tests.testapp.models import Book


@pytest.fixture
def book() -> Book:
    """A book with one chapter, on a shelf of its own."""
    return book_create()
