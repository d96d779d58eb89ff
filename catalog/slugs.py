"""Which strings could be a slug of a model: checked before any cache or database."""

from __future__ import annotations

import re

from django.db import models

_SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")  # as Django's ``slug`` path converter


def slug_fits(*, model: type[models.Model], slug: str) -> bool:
    """Could ``slug`` be the ``slug`` field of a ``model`` row? A 3,000-character or
    non-slug string cannot, and must not cost a Redis key or a query."""
    field = model._meta.get_field("slug")
    max_length = getattr(field, "max_length", None) or 0
    return 0 < len(slug) <= max_length and _SLUG.match(slug) is not None
