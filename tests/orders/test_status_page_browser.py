"""A shopper's special order in a real browser, through nginx, the clones and the workers.

The status page must update itself: the test never reloads it, and proves so with a
marker set on the page's ``window`` that a reload would wipe.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser import browser_page
from tests.orders.conftest import emails_about, fake_client_address, order_form

WAIT_MS = 30_000


def test_a_product_page_link_opens_the_order_form_with_that_product_chosen(lb_url, product_slug):
    with browser_page() as page:
        page.goto(f"{lb_url}/products/{product_slug}/")
        page.click("text=Order it with your own writing")

        expect(page.locator("select[name=product]")).to_have_value(product_slug)


def test_an_order_placed_by_choosing_a_product_turns_ready_without_a_reload(
    lb_url, product_slug, tmp_path
):
    email = order_form(product_slug, "")["email"]
    with browser_page(headers={"X-Forwarded-For": fake_client_address()}) as page:
        page.goto(f"{lb_url}/")
        page.click("header >> text=Special order")  # no product named anywhere yet
        expect(page.locator("main")).to_contain_text("queued")
        choice = page.locator(f"select[name=product] option[value='{product_slug}']")
        page.select_option("select[name=product]", label=choice.inner_text())
        page.fill("input[name=writing]", "Åsa Zoë")
        page.fill("input[name=pickup_date]", order_form(product_slug, "")["pickup_date"])
        page.fill("input[name=email]", email)
        page.screenshot(path=tmp_path / "order-form.png", full_page=True)
        page.click("form button[type=submit]")

        page.wait_for_url(re.compile(r"/orders/[0-9a-f-]{36}/$"))
        uuid = page.url.rstrip("/").rsplit("/", 1)[1]
        expect(page.locator("#order-status")).to_have_text(re.compile("Queued|Baking"))
        page.evaluate("window.notReloaded = true")

        expect(page.locator("#order-status")).to_have_text("Ready", timeout=WAIT_MS)
        expect(page.locator("#order-explanation")).to_contain_text("We have emailed you")
        image = page.locator("#order-image")
        expect(image).to_be_visible()
        expect(image).to_have_attribute("src", f"/media/orders/{uuid}.png")
        assert image.evaluate("img => img.complete && img.naturalWidth") == 640
        assert page.evaluate("window.notReloaded") is True
        page.screenshot(path=tmp_path / "order-ready.png", full_page=True)

    [message] = emails_about(uuid)
    assert email in message
