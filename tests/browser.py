"""A real browser for the tests that need JavaScript: Debian's Chromium under Playwright.

Playwright drives the ``chromium`` package that ``make bootstrap`` installs (never a
downloaded browser). A missing browser fails the test that asked for it, naming the fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


@contextmanager
def browser_page(*, headers: dict[str, str] | None = None) -> Iterator[Page]:
    """A fresh headless Chromium page (own cookies), closed on exit.

    Runs Playwright's event loop only inside the block: pytest-django's database access
    before and after it stays synchronous.
    """
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: run `make bootstrap` (installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            context = browser.new_context(extra_http_headers=headers or {})
            yield context.new_page()
        finally:
            browser.close()
