"""A real browser for the tests that need JavaScript: the system's Chromium under Playwright.

Playwright drives the Chromium that ``make test`` installs (Debian's ``chromium``, or
Ubuntu's ``chromium-browser`` snap), never a downloaded browser. A missing browser fails
the test that asked for it, naming the fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from deploy.paths import Layout
from deploy.topology import load_topology

# $CHROMIUM first, then where Debian's package, Ubuntu's package and the snap put it.
CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/snap/bin/chromium")


def find_chromium(environ: Mapping[str, str] | None = None) -> Path | None:
    """The first executable Chromium among ``$CHROMIUM`` and ``CANDIDATES``, else None."""
    environ = os.environ if environ is None else environ
    for candidate in (environ.get("CHROMIUM", ""), *CANDIDATES):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


@contextmanager
def browser_page(*, headers: dict[str, str] | None = None) -> Iterator[Page]:
    """A fresh headless Chromium page (own cookies), closed on exit.

    The cluster's load balancer port is allowed explicitly: Chromium refuses some ports
    (e.g. 6000, X11's), and ``SHOP_LB_PORT`` may have moved the cluster onto one.

    Runs Playwright's event loop only inside the block: pytest-django's database access
    before and after it stays synchronous.
    """
    chromium = find_chromium()
    if chromium is None:
        pytest.fail(
            f"no Chromium at $CHROMIUM or {', '.join(CANDIDATES)}: run `make bootstrap-test` "
            "(installs Debian's chromium, or Ubuntu's chromium-browser)"
        )
    with sync_playwright() as playwright:
        lb_port = load_topology(Layout.discover()).ports.lb
        browser = playwright.chromium.launch(
            executable_path=str(chromium), args=[f"--explicitly-allowed-ports={lb_port}"]
        )
        try:
            context = browser.new_context(extra_http_headers=headers or {})
            yield context.new_page()
        finally:
            browser.close()
