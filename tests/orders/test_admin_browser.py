"""The special-order admin list in a real browser: the actions select stays on the page."""

from __future__ import annotations

import secrets

import pytest

from tests.browser import browser_page
from tests.deploy.helpers import deploy_cli
from tests.orders.conftest import place_order, placed_uuid

STAFF = "browser-test-staff"


@pytest.fixture
def staff_password(lb_url: str, product_slug: str) -> str:
    """A superuser of the cluster's admin with a fresh password, and an order to list."""
    password = secrets.token_urlsafe(16)
    code = (
        "from django.contrib.auth.models import User\n"
        f"user, _ = User.objects.get_or_create(username={STAFF!r})\n"
        "user.is_staff = user.is_superuser = True\n"
        f"user.set_password({password!r})\n"
        "user.save()\n"
    )
    done = deploy_cli("manage", "shell", "-c", code)
    assert done.returncode == 0, done.stdout + done.stderr
    placed_uuid(place_order(lb_url, product_slug, "Listed"))
    return password


def test_the_actions_select_stays_inside_the_order_list(lb_url, staff_password, tmp_path):
    with browser_page() as page:
        page.goto(f"{lb_url}/admin/login/?next=/admin/orders/specialorder/")
        page.fill("#id_username", STAFF)
        page.fill("#id_password", staff_password)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/orders/specialorder/")
        for width in (1280, 1024, 800):  # 1024: it ran 230 px off the page, under the filter
            page.set_viewport_size({"width": width, "height": 800})
            page.screenshot(path=tmp_path / f"orders-{width}.png")

            select = page.locator("#changelist .actions select").bounding_box()
            results = page.locator("#changelist .results").bounding_box()
            assert select is not None and results is not None
            assert select["x"] + select["width"] <= results["x"] + results["width"] + 1, width
            assert page.evaluate("document.documentElement.scrollWidth") <= width
