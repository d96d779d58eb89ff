"""A stopped replica costs no request, and comes back into use by itself.

Runs against the real cluster through nginx: the clones are not restarted.
"""

import pytest

from tests.cluster import deploy, wait_for
from tests.deploy.helpers import new_session


@pytest.fixture
def stopped_replica():
    deploy("stop", "postgres-replica")
    yield
    deploy("start", "postgres-replica")


def _reads(lb_url: str, path: str = "/") -> str:
    response = new_session().get(f"{lb_url}{path}", timeout=10)
    assert response.status_code == 200, f"{path}: HTTP {response.status_code}"
    return response.headers["X-DB-Read"]


def test_pages_work_from_the_primary_while_the_replica_is_down(
    lb_url, product_slug, stopped_replica
):
    pages = ["/", f"/products/{product_slug}/"]
    for _ in range(3):  # every clone sees the outage
        for path in pages:
            assert _reads(lb_url, path) == "default (replica-down)"


def test_reads_return_to_the_replica_after_it_restarts(lb_url, product_slug):
    deploy("stop", "postgres-replica")
    for _ in range(6):
        _reads(lb_url)
    deploy("start", "postgres-replica")

    # Each clone retries the replica after its cool-down (REPLICA_COOLDOWN_SECONDS).
    wait_for(
        lambda: all(_reads(lb_url) == "replica (replica)" for _ in range(6)),
        timeout=30,
        what="every clone reading from the restarted replica",
    )
