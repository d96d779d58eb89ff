"""A request that leaves the cart empty creates no session: floods of cart POSTs from
clients without a session cost no memory in the session Redis, which never evicts."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import redis

from tests.deploy.helpers import new_session

SESSION_KEYS = "*django.contrib.sessions.cache*"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/cart/remove/x/", {}),
        ("/cart/add/no-such-product/", {}),
        ("/cart/add/{slug}/", {"quantity": "0"}),
        ("/cart/add/{slug}/", {"quantity": "many"}),
    ],
)
def test_a_post_that_leaves_the_cart_empty_saves_no_session(client, product, path, data):
    response = client.post(path.format(slug=product.slug), data)

    assert response.status_code in {302, 400, 404}
    assert "sessionid" not in response.cookies


@pytest.mark.django_db
def test_removing_the_last_product_empties_the_session_of_the_cart(client, product):
    from django.core.cache import caches

    client.post(f"/cart/add/{product.slug}/")
    key = client.cookies["sessionid"].value
    client.post(f"/cart/remove/{product.slug}/")

    assert "cart" not in caches["sessions"].get(f"django.contrib.sessions.cache{key}", {})


def _session_keys(sessions: redis.Redis) -> int:
    return sum(1 for _ in sessions.scan_iter(match=SESSION_KEYS, count=1000))


def test_200_cart_posts_without_a_session_add_no_session_keys(
    cluster: dict[str, Any], lb_url: str
) -> None:
    sessions = redis.Redis.from_url(cluster["services"]["redis"]["url"])
    before = _session_keys(sessions)
    attacker = new_session()
    token = secrets.token_hex(16)  # a self-chosen CSRF cookie: 32 characters pass the check
    attacker.cookies.set("csrftoken", token)

    statuses = {
        attacker.post(
            f"{lb_url}/cart/remove/x/",
            data={"csrfmiddlewaretoken": token},
            headers={"Accept": "application/json"},
            timeout=10,
        ).status_code
        for _ in range(200)
    }

    assert statuses == {200}  # accepted (CSRF passed), and still nothing stored
    assert "sessionid" not in attacker.cookies
    assert _session_keys(sessions) == before
