"""What the catalog tests read: pages as a shopper sees them, cache counters, crowds."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from unittest import mock

from django.db import connections
from redis.connection import AbstractConnection

from core.stats import cache_counts


def page(client, path: str) -> str:
    """The page at ``path``, which must be there."""
    response = client.get(path)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    return response.text


def product_page(client, product) -> str:
    return page(client, f"/products/{product.slug}/")


def category_page(client, category) -> str:
    return page(client, f"/categories/{category.slug}/")


def current_price(client, product) -> str:
    """The price the product page sells at (not the price history below it)."""
    match = re.search(r'<p class="price">\s*(.*?)\s*</p>', product_page(client, product), re.S)
    assert match, "no current price on the page"
    return match.group(1)


def listed_price(client, product) -> str | None:
    """The price next to ``product`` on its category's listing; None if it is not listed."""
    listing = category_page(client, product.category)
    row = re.search(
        rf'href="/products/{re.escape(product.slug)}/">.*?</a></td>\s*<td class="num">(.*?)</td>',
        listing,
        re.S,
    )
    return row.group(1).strip() if row else None


def warm(client, product) -> str:
    """Read the product page twice: the second read is served from the cache."""
    product_page(client, product)
    return product_page(client, product)


def cache_stat(name: str) -> int:
    """A cache counter of this process, e.g. ``product_page.rebuild``."""
    return cache_counts().get(name, 0)


def at_once(shoppers: int, visit: Callable[[], None]) -> None:
    """Run ``visit`` in ``shoppers`` threads released together; each closes its connections."""
    barrier = threading.Barrier(shoppers)

    def shopper():
        try:
            barrier.wait()
            visit()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=shopper) for _ in range(shoppers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def cache_unreachable(settings) -> dict:
    """Point the cache at a closed port; return the reachable settings to restore."""
    reachable = settings.CACHES
    settings.CACHES = reachable | {
        "default": reachable["default"] | {"LOCATION": "redis://127.0.0.1:1/0"}
    }
    return reachable


@contextmanager
def redis_round_trips() -> Iterator[list[bytes]]:
    """Collect what every Redis client of this process sends, one item per round trip."""
    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    def send(self, command, *args, **kwargs):
        sent.append(command if isinstance(command, bytes) else b"".join(command))
        return original(self, command, *args, **kwargs)

    with mock.patch.object(AbstractConnection, "send_packed_command", send):
        yield sent
