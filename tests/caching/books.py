"""What an app that uses the object cache declares, here for the test app's books: which
writes change a book, and how its page is assembled and found."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.http import Http404

from caching.objects import ObjectCache, object_cache_register
from caching.tracking import track
from tests.testapp.models import Book, Chapter, Shelf


@dataclass(frozen=True)
class BookPage:
    CACHE_VERSION: ClassVar[int] = 1

    id: int
    slug: str
    title: str
    shelf: str
    chapters: tuple[str, ...]


def book_page_read(slug: str) -> BookPage:
    """From the database, where the routing scope reads; ``Http404`` for no such book."""
    book = Book.objects.select_related("shelf").filter(slug=slug).first()
    if book is None:
        raise Http404(f"No book {slug!r}.")
    chapters = book.chapters.order_by("position", "pk").values_list("title", flat=True)
    return BookPage(book.pk, book.slug, book.title, book.shelf.name, tuple(chapters))


def book_id_find(slug: str) -> int | None:
    return Book.objects.filter(slug=slug).values_list("pk", flat=True).first()


track(owner=Book, parts=[Chapter], groups=[Shelf])

BOOK_PAGES: ObjectCache[BookPage] = object_cache_register(
    ObjectCache(
        name="book-page",
        owner=Book,
        object_class=BookPage,
        key_fits=lambda slug: 0 < len(slug) <= 200,
        find_owner=lambda slug: book_id_find(slug),
        assemble=lambda slug: book_page_read(slug),
        key_of=lambda page: page.slug,
        owner_of=lambda page: page.id,
        seconds=lambda: getattr(settings, "BOOK_PAGE_CACHE_SECONDS", 3600),
    )
)


_numbers = itertools.count(1)


def book_create(*, shelf: Shelf | None = None, chapters: int = 1) -> Book:
    """A book of ``chapters`` chapters, on ``shelf`` or a new one."""
    number = next(_numbers)
    shelf = shelf or Shelf.objects.create(name=f"Shelf {number}")
    book = Book.objects.create(shelf=shelf, title=f"Book {number}", slug=f"book-{number}")
    for position in range(1, chapters + 1):
        Chapter.objects.create(book=book, title=f"Chapter {position}", position=position)
    return book
