"""Rows of the test models, each with names of its own."""

import secrets

from tests.testapp.models import Book, Shelf


def book_create(**fields: object) -> Book:
    """A book (on a new shelf unless ``shelf`` is given), committed unless a test's
    transaction holds it."""
    name = secrets.token_hex(4)
    fields.setdefault("title", f"Book {name}")
    fields.setdefault("slug", f"book-{name}")
    if "shelf" not in fields:
        fields["shelf"] = Shelf.objects.create(name=f"Shelf {name}")
    return Book.objects.create(**fields)
