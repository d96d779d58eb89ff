"""Never stale after commit: a price change, with the replica 3 s behind, through nginx."""

from __future__ import annotations

import random
import threading
import time

from tests.prerender.cluster import (
    category_of,
    get,
    is_prerendered,
    listed_price,
    manage,
    price_on,
    wait_until_prerendered,
)

CHANGE_PRICE = """
import time
from decimal import Decimal
from catalog import services
from catalog.models import Product
services.price_add(product=Product.objects.get(slug={slug!r}), amount=Decimal({amount!r}))
print(time.time())
"""


def test_a_price_change_is_never_seen_old_and_its_page_is_prerendered_again_within_2s(
    lb_url: str, product_slug: str, delayed_replica: None
) -> None:
    manage("prerender", "--if-unpublished", "--verbosity", "0")
    product = f"{lb_url}/products/{product_slug}/"
    wait_until_prerendered(product)
    category = f"{lb_url}{category_of(get(product).text)}"
    wait_until_prerendered(category)
    amount = f"{random.randrange(100, 999)}.{random.randrange(10, 99)}"
    new = f"{amount} EUR"
    assert price_on(get(product).text) != new

    returned = threading.Event()
    stop = threading.Event()
    stale: list[str] = []
    prerendered_at: list[float] = []

    def reader(url: str, price) -> None:
        while not stop.is_set():
            after_the_write = returned.is_set()
            response = get(url)
            if after_the_write and price(response.text) != new:
                stale.append(f"{url}: {price(response.text)} after the write returned")
            if price(response.text) == new and is_prerendered(response):
                prerendered_at.append(time.time())

    readers = [
        threading.Thread(target=reader, args=(product, price_on)),
        threading.Thread(target=reader, args=(category, lambda h: listed_price(h, product_slug))),
        threading.Thread(target=reader, args=(f"{lb_url}/", lambda h: new)),
    ]
    for thread in readers:
        thread.start()
    try:
        change = CHANGE_PRICE.format(slug=product_slug, amount=amount)
        committed = float(manage("shell", "-c", change).split()[-1])  # printed last
        returned.set()
        time.sleep(4)  # past the replica's delay: the replica has it by now
    finally:
        stop.set()
        for thread in readers:
            thread.join(30)
    assert stale == []
    assert prerendered_at, "the product page was never prerendered again"
    assert min(prerendered_at) - committed <= 2.0
