"""A stopped replica costs no shop page, and comes back into use by itself.

Runs against the real cluster through nginx: the clones are not restarted. Reads are
watched on the cart page, which reads products through the router on every request
(catalog pages may come from the cache without any read).
"""

import pytest

from tests.cluster import deploy, stopped, wait_for
from tests.deploy.helpers import new_session


@pytest.fixture
def stopped_replica():
    with stopped("postgres-replica"):
        yield


@pytest.fixture
def shopper(lb_url, product_slug):
    session = new_session()
    session.get(f"{lb_url}/cart.json", timeout=10)
    added = session.post(
        f"{lb_url}/cart/add/{product_slug}/",
        headers={"X-CSRFToken": session.cookies["csrftoken"], "Accept": "application/json"},
        timeout=10,
    )
    assert added.status_code == 200, added.text
    return session


def _cart_read_from(session, lb_url: str) -> str:
    response = session.get(f"{lb_url}/cart/", timeout=10)
    assert response.status_code == 200, f"/cart/: HTTP {response.status_code}"
    return response.headers["X-DB-Read"]


def test_pages_work_from_the_primary_while_the_replica_is_down(
    lb_url, product_slug, shopper, stopped_replica
):
    for _ in range(6):  # every clone sees the outage
        assert _cart_read_from(shopper, lb_url) == "default (replica-down)"
        for path in ["/", f"/products/{product_slug}/", "/categories/cakes/"]:
            assert new_session().get(f"{lb_url}{path}", timeout=10).status_code == 200


def test_reads_return_to_the_replica_after_it_restarts(lb_url, shopper, stopped_replica):
    for _ in range(6):
        assert _cart_read_from(shopper, lb_url) == "default (replica-down)"
    deploy("start", "postgres-replica")

    # Each clone retries the replica after its cool-down (REPLICA_COOLDOWN_SECONDS).
    wait_for(
        lambda: all(_cart_read_from(shopper, lb_url) == "replica (replica)" for _ in range(6)),
        timeout=30,
        what="every clone reading from the restarted replica",
    )
