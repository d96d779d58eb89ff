"""The cluster's published pages, served by nginx without touching Django."""

from __future__ import annotations

import gzip
import threading
from typing import Any

import pytest
import requests

from tests.cluster import wait_for
from tests.deploy.helpers import cluster_status
from tests.prerender.cluster import (
    category_of,
    cluster_current,
    get,
    is_prerendered,
    manage,
    wait_until_prerendered,
)


@pytest.fixture(scope="module")
def pages(lb_url: str, product_slug: str) -> list[str]:
    """Home, a category and a product page, published (as `make up` publishes them)."""
    manage("prerender", "--if-unpublished", "--verbosity", "0")
    product = f"/products/{product_slug}/"
    wait_until_prerendered(f"{lb_url}{product}")
    return ["/", category_of(get(f"{lb_url}{product}").text), product]


def test_pages_through_nginx_are_prerendered_and_the_same_as_a_clones(
    cluster: dict[str, Any], lb_url: str, pages: list[str]
) -> None:
    clone = cluster["clones"][0]["url"]
    for path in pages:
        wait_until_prerendered(f"{lb_url}{path}")
        served = get(f"{lb_url}{path}")
        assert served.headers["Content-Type"] == "text/html; charset=utf-8"
        assert served.headers["Cache-Control"] == "no-cache"  # revalidated: never old
        assert "ETag" in served.headers and "Last-Modified" in served.headers
        dynamic = get(f"{clone}{path}")
        assert "X-Clone" in dynamic.headers and "X-Prerendered" not in dynamic.headers
        assert served.text == dynamic.text, path


def test_pages_are_sent_compressed_from_the_files_written_at_build_time(
    lb_url: str, pages: list[str]
) -> None:
    for path in pages:
        raw = requests.get(
            f"{lb_url}{path}", headers={"Accept-Encoding": "gzip"}, timeout=10, stream=True
        )
        assert is_prerendered(raw)
        assert raw.headers["Content-Encoding"] == "gzip"
        body = gzip.decompress(raw.raw.read())
        assert body == (cluster_current() / path.strip("/") / "index.html").read_bytes()


def test_no_published_file_holds_a_csrf_token_a_session_or_a_cart(pages: list[str]) -> None:
    files = list(cluster_current().rglob("index.html"))
    assert len(files) > 3
    for file in files:
        text = file.read_text()
        assert "csrfmiddlewaretoken" not in text and "csrftoken" not in text
        assert "sessionid" not in text
        assert '<span id="cart-count">0</span>' in text


def test_status_and_healthz_show_the_last_build_and_the_rerender_queue(
    lb_url: str, pages: list[str]
) -> None:
    prerender = cluster_status()["prerender"]
    assert prerender["last_build"]["pages"] > 3
    assert prerender["last_build"]["seconds"] >= 0
    assert prerender["rerender_queue"]["pages"] >= 0
    assert get(f"{lb_url}/healthz").json()["prerender"]["last_build"]["name"]


def test_reading_pages_while_builds_publish_never_gets_a_broken_or_missing_page(
    lb_url: str, pages: list[str]
) -> None:
    stop = threading.Event()
    seen: list[tuple[str, int, bool]] = []
    broken: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            for path in pages:
                response = requests.get(f"{lb_url}{path}", timeout=10)
                seen.append((path, response.status_code, is_prerendered(response)))
                if response.status_code != 200 or not response.text.endswith("</html>\n"):
                    broken.append(f"{path}: {response.status_code} {response.text[-80:]!r}")

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        for _ in range(2):
            assert "published" in manage("prerender", "--verbosity", "0")
    finally:
        stop.set()
        for thread in readers:
            thread.join(30)
    assert broken == []
    assert sum(prerendered for _, _, prerendered in seen) > 10


NIGHTLY = """
import random
from datetime import UTC, date, datetime, time, timedelta
from django.conf import settings
from prerender.nightly import nightly_build_if_due
night = date(2100, 1, 1) + timedelta(days=random.randrange(36500))
at = datetime.combine(night, time.fromisoformat(settings.PRERENDER_NIGHTLY_AT), UTC)
for minutes in (5, 30):
    print(nightly_build_if_due(at + timedelta(minutes=minutes)))
"""


def test_the_nightly_build_is_queued_once_and_published_by_a_worker(pages: list[str]) -> None:
    before = cluster_status()["prerender"]["last_build"]["name"]
    assert manage("shell", "-c", NIGHTLY).split()[-2:] == ["1", "0"]  # the second: same night
    wait_for(
        lambda: cluster_status()["prerender"]["last_build"]["name"] != before,
        timeout=60,
        what="the nightly build published by a worker",
    )
