"""The admin's Scaling page in a real browser, through nginx, as a staff member of the
running cluster; the screenshot is kept in ``test-results/scaling-page.png``."""

from __future__ import annotations

import os
import secrets
from typing import Any

from playwright.sync_api import expect

from tests.browser import browser_page
from tests.deploy.helpers import CHECKOUT, deploy_cli

SCREENSHOT = CHECKOUT / "test-results" / "scaling-page.png"
STAFF = "scaling-test-staff"
# Made, or given a new password, in the cluster's database, as the app tier runs manage.py.
MAKE_STAFF = (
    "import os; from django.contrib.auth import get_user_model; "
    f"user, _ = get_user_model().objects.get_or_create(username={STAFF!r}); "
    "user.is_staff = True; user.set_password(os.environ['SCALING_TEST_PASSWORD']); user.save()"
)


def test_staff_see_every_clone_and_the_clusters_figures_on_the_scaling_page(
    cluster: dict[str, Any], lb_url: str
) -> None:
    password = secrets.token_urlsafe(16)
    made = deploy_cli(
        "manage", "shell", "-c", MAKE_STAFF, env={**os.environ, "SCALING_TEST_PASSWORD": password}
    )
    assert made.returncode == 0, made.stdout + made.stderr

    with browser_page() as page:
        page.goto(f"{lb_url}/admin/scaling/")
        assert "/admin/login/" in page.url  # staff only: the login comes first
        page.fill("#id_username", STAFF)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        expect(page.locator("h1")).to_have_text("Scaling", timeout=15_000)

        rows = page.locator("#clones tr.clone")
        expect(rows).to_have_count(len(cluster["clones"]))
        for clone in cluster["clones"]:
            row = rows.filter(has_text=clone["url"])
            expect(row).to_contain_text(clone["name"])
            expect(row).to_contain_text("ok")
            expect(row).to_contain_text(clone["release"])
        expect(page.locator("#replicas")).to_contain_text("replica")
        expect(page.locator("#jobs")).to_contain_text("Broker queue depth")
        expect(page.locator("#prerender")).to_contain_text("Last build")
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    print(f"screenshot: {SCREENSHOT}")
