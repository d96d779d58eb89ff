"""nginx refuses floods and huge bodies cheaply, with pages in the shop's look.

Requests from 127.0.0.1 (this host: tests, `make bench`, the operator) are not counted;
other loopback addresses stand in for clients on the internet.
"""

from __future__ import annotations

import secrets

import pytest
import requests

from tests.deploy.helpers import session_from

BURST = 20  # limit_req burst in deploy/nginx/nginx.conf.tmpl


def _flooder(address: str) -> tuple[requests.Session, dict[str, str]]:
    client = session_from(address)
    token = secrets.token_hex(16)
    client.cookies.set("csrftoken", token)
    return client, {"csrfmiddlewaretoken": token}


def test_a_flood_of_posts_from_one_address_gets_429_pages_from_nginx(lb_url: str) -> None:
    flooder, form = _flooder("127.0.0.11")
    answers = [
        flooder.post(f"{lb_url}/cart/remove/x/", data=form, allow_redirects=False, timeout=10)
        for _ in range(60)
    ]

    statuses = [answer.status_code for answer in answers]
    assert statuses[: BURST + 1] == [302] * (BURST + 1)  # a burst passes
    assert statuses.count(429) >= 30, statuses
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert "X-Clone" not in refused.headers  # nginx answered; no clone was bothered
    assert refused.headers["Retry-After"] == "10"
    assert "Too many requests from your address" in refused.text
    assert "nothing was\n    added, removed or ordered" in refused.text
    assert '<link rel="stylesheet" href="/static/shop.css">' in refused.text

    assert flooder.get(f"{lb_url}/cart/", timeout=10).status_code == 200  # GETs are not limited
    other, other_form = _flooder("127.0.0.12")
    assert (
        other.post(
            f"{lb_url}/cart/remove/x/", data=other_form, allow_redirects=False, timeout=10
        ).status_code
        == 302
    )


def test_this_host_is_not_limited(lb_url: str) -> None:
    client, form = _flooder("127.0.0.1")
    statuses = {
        client.post(
            f"{lb_url}/cart/remove/x/", data=form, allow_redirects=False, timeout=10
        ).status_code
        for _ in range(3 * BURST)
    }
    assert statuses == {302}


@pytest.mark.parametrize("path", ["/orders/special/new/", "/cart/add/x/", "/no-such-page/"])
def test_a_body_over_1_mib_gets_413_from_nginx(lb_url: str, path: str) -> None:
    client, form = _flooder("127.0.0.13")
    response = client.post(
        f"{lb_url}{path}", data={**form, "writing": "x" * (1024 * 1024 + 1)}, timeout=30
    )

    assert response.status_code == 413
    assert "X-Clone" not in response.headers
    assert "That was more than we accept" in response.text


def test_the_admin_takes_larger_bodies_and_django_refuses_form_data_over_its_limit(
    lb_url: str,
) -> None:
    client, form = _flooder("127.0.0.14")
    response = client.post(
        f"{lb_url}/admin/login/", data={**form, "username": "x" * (2 * 1024 * 1024)}, timeout=30
    )

    assert response.status_code == 413
    assert "X-Clone" in response.headers  # through nginx (20 MiB there), refused by Django
    assert "That was more than we accept" in response.text
