"""Special orders through the real cluster: nginx, clones, outbox relay, the Redis broker
(its own process) and the Dramatiq worker processes, with fault drills.

Redelivery bound (Redis broker): a worker that sends no broker command for
``DRAMATIQ_REDIS_HEARTBEAT_SECONDS`` is dead, and every broker command runs the
maintenance that puts a dead worker's taken messages back in the queue. Live workers
poll at least once a second, so a SIGKILLed worker's job is queued again at most about
heartbeat + 1 s after its last command, and baked by a surviving worker right after.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from tests.cluster import deploy, stopped, wait_for
from tests.deploy.helpers import cluster_status, new_session
from tests.orders.conftest import (
    NEW,
    cluster_env,
    emails_about,
    fake_client_address,
    order_status,
    place_order,
    placed_uuid,
    shop_order,
    wait_for_status,
    wait_until_ready,
)

BAKE_SECONDS = 1.5  # SPECIAL_ORDER_BAKE_SECONDS of the cluster (default)


def _all_workers_running() -> bool:
    return all(w["state"] == "RUNNING" for w in cluster_status()["workers"])


def test_an_order_is_queued_baked_shown_with_its_picture_and_emailed(lb_url, product_slug):
    session = new_session()
    form_page = session.get(f"{lb_url}{NEW}?product={product_slug}", timeout=10).text
    assert "queued" in form_page

    uuid = placed_uuid(place_order(lb_url, product_slug, "Happy birthday Ana"))
    page = session.get(f"{lb_url}/orders/{uuid}/", timeout=10)
    assert page.status_code == 200
    assert "Happy birthday Ana" in page.text
    assert "status.json" in page.text  # the page polls it and updates itself

    wait_until_ready(lb_url, [uuid], timeout=30)
    status = order_status(lb_url, uuid)
    picture = session.get(f"{lb_url}{status['image_url']}", timeout=10)
    assert picture.status_code == 200
    assert picture.headers["Content-Type"] == "image/png"
    assert picture.content.startswith(b"\x89PNG")
    [email] = emails_about(uuid)
    assert f"Its picture: {lb_url}{status['image_url']}\n" in email
    assert shop_order(uuid)["attempts"] == 1


@pytest.fixture
def broker_stopped() -> Iterator[None]:
    with stopped("redis-broker"):
        yield


def test_orders_placed_while_the_broker_is_down_are_all_baked_once_after_it_returns(
    lb_url, product_slug, broker_stopped
):
    uuids = [placed_uuid(place_order(lb_url, product_slug, f"Outage order {n}")) for n in range(20)]
    assert {order_status(lb_url, u)["status"] for u in uuids} == {"QUEUED"}
    health = new_session().get(f"{lb_url}/healthz", timeout=10).json()
    assert health["jobs"]["broker"]["ok"] is False
    assert health["jobs"]["outbox"]["unsent"] >= 20

    deploy("start", "redis-broker")
    started = time.monotonic()
    wait_until_ready(lb_url, uuids, timeout=90)
    print(f"20 orders READY {time.monotonic() - started:.1f}s after the broker returned")

    for uuid in uuids:
        assert shop_order(uuid)["attempts"] == 1, uuid
        assert len(emails_about(uuid)) == 1, uuid


def test_a_worker_sigkilled_mid_bake_has_its_order_baked_once_after_redelivery(
    lb_url, product_slug
):
    wait_for(_all_workers_running, timeout=30, what="every worker RUNNING")
    heartbeat = int(cluster_env().get("DRAMATIQ_REDIS_HEARTBEAT_SECONDS", "10"))
    uuid = placed_uuid(place_order(lb_url, product_slug, "Survive a SIGKILL"))
    wait_for(lambda: shop_order(uuid)["status"] == "BAKING", timeout=20, what="BAKING")
    baker = str(shop_order(uuid)["baker"])  # "worker-N/<pid of the process baking it>"
    assert order_status(lb_url, uuid)["status"] in {"BAKING", "QUEUED"}  # replica may lag

    os.kill(int(baker.rsplit("/", 1)[1]), signal.SIGKILL)
    killed_at = time.monotonic()
    bound = heartbeat + 1 + BAKE_SECONDS + 5  # + poll, + oven, + slack for a busy machine
    elapsed = wait_for_status(lb_url, uuid, "READY", timeout=bound + 20)
    print(f"baked again {time.monotonic() - killed_at:.1f}s after the SIGKILL (bound {bound}s)")

    assert elapsed <= bound
    order = shop_order(uuid)
    assert order["attempts"] == 2  # the killed bake, then the one after redelivery
    assert order["baker"] != baker
    assert len(emails_about(uuid)) == 1
    wait_for(_all_workers_running, timeout=60, what="the killed worker restarted")


def test_the_load_balancer_passes_the_client_address_to_the_rate_limit(lb_url, product_slug):
    limit = 10  # SPECIAL_ORDER_RATE_LIMIT of the cluster (default)
    session = new_session()
    session.get(f"{lb_url}{NEW}", timeout=10)
    token = session.cookies["csrftoken"]
    client, other = fake_client_address(), fake_client_address()  # unused by earlier runs

    def post(address: str) -> int:
        return session.post(
            f"{lb_url}{NEW}",
            data={"csrfmiddlewaretoken": token},  # invalid: no order, no job, still counted
            headers={"X-Forwarded-For": address, "Referer": lb_url},
            timeout=10,
        ).status_code

    assert [post(client) for _ in range(limit)] == [400] * limit
    assert post(client) == 429
    assert post(other) == 400  # another client is not limited


def test_with_the_cache_redis_stopped_the_11th_order_from_one_address_is_still_refused(
    lb_url, product_slug
):
    limit = 10  # SPECIAL_ORDER_RATE_LIMIT of the cluster (default)
    client = fake_client_address()

    with stopped("redis-cache"):
        answers = [
            place_order(lb_url, product_slug, f"Cache down {n}", client=client)
            for n in range(limit + 1)
        ]

    assert [answer.status_code for answer in answers] == [302] * limit + [429]
    assert "Too many orders from your address" in answers[-1].text
    wait_until_ready(lb_url, [placed_uuid(answer) for answer in answers[:limit]], timeout=90)
