"""Sessions live in Redis, not in a clone: one cart, whichever clone answers."""

from __future__ import annotations

from typing import Any

from tests.deploy.helpers import new_session


def test_cart_survives_requests_spread_over_every_clone(
    cluster: dict[str, Any], lb_url: str, product_slug: str
) -> None:
    shopper = new_session()
    assert shopper.get(f"{lb_url}/cart.json", timeout=10).json()["count"] == 0
    token = shopper.cookies["csrftoken"]
    added = shopper.post(
        f"{lb_url}/cart/add/{product_slug}/",
        headers={"X-CSRFToken": token, "Accept": "application/json"},
        data={"quantity": "2"},
        timeout=10,
    )
    assert added.status_code == 200, added.text

    served_by = set()
    for _ in range(4 * len(cluster["clones"])):
        response = shopper.get(f"{lb_url}/cart.json", timeout=10)
        served_by.add(response.headers["X-Clone"])
        assert response.json()["count"] == 2
        assert [item["slug"] for item in response.json()["items"]] == [product_slug]
    assert served_by == {clone["name"] for clone in cluster["clones"]}


def test_post_without_csrf_token_is_refused_by_every_clone(
    cluster: dict[str, Any], lb_url: str, product_slug: str
) -> None:
    shopper = new_session()
    shopper.get(f"{lb_url}/cart.json", timeout=10)
    refused = shopper.post(f"{lb_url}/cart/add/{product_slug}/", data={"quantity": "1"}, timeout=10)
    assert refused.status_code == 403
    assert shopper.get(f"{lb_url}/cart.json", timeout=10).json()["count"] == 0
