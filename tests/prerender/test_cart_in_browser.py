"""Adding to the cart from a prerendered page, in a real browser."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import browser_page
from tests.prerender.cluster import get, manage, wait_until_prerendered

WAIT_MS = 10_000


def test_adding_to_the_cart_from_a_prerendered_page_works(lb_url: str, product_slug: str) -> None:
    manage("prerender", "--if-unpublished", "--verbosity", "0")
    url = f"{lb_url}/products/{product_slug}/"
    wait_until_prerendered(url)
    with browser_page() as page:
        response = page.goto(url)
        assert response is not None and response.headers.get("x-prerendered") == "1"
        expect(page.locator("#cart-count")).to_have_text("0", timeout=WAIT_MS)
        page.click("form[data-cart-add] button[type=submit]")
        expect(page.locator("[data-cart-message]")).to_have_text(
            "Added to your cart.", timeout=WAIT_MS
        )
        expect(page.locator("#cart-count")).to_have_text("1")
        page.goto(f"{lb_url}/cart/")
        expect(page.locator("main")).to_contain_text(get(url).text.split("<h1>")[1].split("<")[0])
