"""Helpers of the Mongo read model's tests: pages as a shopper sees them, and which model
served them."""

from __future__ import annotations

import re

from django.core.cache import caches

CSRF = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def served(client, path: str) -> tuple[str, str]:
    """(the page without its per-request CSRF token, the model that served it)."""
    response = client.get(path)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    return CSRF.sub("", response.text), response["X-Read-Model"]


def cache_emptied() -> None:
    caches["default"].delete_pattern("*")
