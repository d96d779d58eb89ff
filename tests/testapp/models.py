"""A shelf of books with chapters: an owner (``Book``), its parts (``Chapter``) and a group
(``Shelf``), the shapes an object cache must follow."""

from django.db import models


class Shelf(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Book(models.Model):
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, related_name="books")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)

    def __str__(self) -> str:
        return self.title


class Chapter(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="chapters")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.title
