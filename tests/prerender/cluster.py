"""Helpers of the prerender tests that drive the running cluster through nginx."""

from __future__ import annotations

import re
from pathlib import Path

import requests

from tests.cluster import wait_for
from tests.deploy.helpers import deploy_cli, new_session
from tests.orders.conftest import cluster_env


def manage(*args: str, timeout: float = 300) -> str:
    """``manage.py ARGS`` as the cluster's app tier runs it (its user, code, settings):
    the files it writes must stay the app tier's to change. Its output."""
    done = deploy_cli("manage", *args, timeout=timeout)
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def cluster_current() -> Path:
    return Path(cluster_env()["PRERENDER_ROOT"]) / "current"


def get(url: str) -> requests.Response:
    """A GET from a fresh client: no cookie, a connection of its own."""
    response = new_session().get(url, timeout=10)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response


def is_prerendered(response: requests.Response) -> bool:
    return response.headers.get("X-Prerendered") == "1" and "X-Clone" not in response.headers


def wait_until_prerendered(url: str, *, timeout: float = 15) -> None:
    wait_for(lambda: is_prerendered(get(url)), timeout=timeout, what=f"{url} prerendered")


def price_on(html: str) -> str:
    match = re.search(r'<p class="price">\s*(.*?)\s*</p>', html, re.S)
    assert match, "no current price on the page"
    return match.group(1)


def listed_price(html: str, slug: str) -> str:
    row = re.search(
        rf'href="/products/{re.escape(slug)}/">.*?</a></td>\s*<td class="num">(.*?)</td>',
        html,
        re.S,
    )
    assert row, f"{slug} is not listed"
    return row.group(1).strip()


def category_of(html: str) -> str:
    match = re.search(
        r'<p class="crumbs"><a href="/">Home</a> › <a href="(/categories/[\w-]+/)"', html
    )
    assert match, "no category link on the product page"
    return match.group(1)
