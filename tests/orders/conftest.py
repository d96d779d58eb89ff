"""Fixtures and helpers for special orders, in the test database and on the real cluster.

Cluster tests place orders through nginx like a browser and watch them through
``status.json``; what a shopper cannot see (bake attempts, which worker baked) they read
from the cluster's own database, and emails from the cluster's mail directory
(``DJANGO_EMAIL_FILE_PATH``, Django's file backend). In-process tests never rely on the
cluster's workers: the jobs they commit go to the test run's own broker namespace.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import IPv6Address
from pathlib import Path

import dramatiq
import psycopg
import pytest
import requests
from django.db import connection, connections
from django.utils import timezone
from dramatiq.brokers.redis import RedisBroker
from redis.exceptions import RedisError

from orders import baking
from orders.actors import MAX_ATTEMPTS, bake_special_order
from orders.models import SpecialOrder
from tests.cluster import wait_for
from tests.deploy.helpers import CHECKOUT, new_session
from tests.shop_fixtures import *  # noqa: F403  (the shop's fixtures)
from tests.workers import run_as_worker

NEW = "/orders/special/new/"
DOCUMENTATION_PREFIX = 0x2001_0DB8 << 96


@pytest.fixture(scope="session", autouse=True)
def _test_broker_namespace_emptied() -> Iterator[None]:
    """Jobs committed by in-process tests (the outbox's fast path, the relay's tests,
    catalog invalidations) wait under the test run's own broker namespace
    (``config.settings.test``), where no worker ever takes them: emptied at the start and
    the end of a run, so they do not pile up run after run."""
    _empty_test_broker_namespace()
    yield
    _empty_test_broker_namespace()


def _empty_test_broker_namespace() -> None:
    broker = dramatiq.get_broker()
    if not isinstance(broker, RedisBroker):
        return
    assert broker.namespace.startswith("test-"), f"{broker.namespace!r} is not the tests'"
    try:
        keys = list(broker.client.scan_iter(match=f"{broker.namespace}:*", count=1000))
        if keys:
            broker.client.delete(*keys)
    except RedisError as error:  # e.g. a fault drill has the broker stopped
        print(f"test broker namespace not emptied: {error}")


@pytest.fixture(autouse=True)
def _fresh_order_limits() -> None:
    """Each test starts with no order-form counters of the test run (they live in the
    session Redis, which outlives a test: ``orders.ratelimit``)."""
    from django.core.cache import caches

    caches["sessions"].delete_pattern("ratelimit:*")


@pytest.fixture(autouse=True)
def _no_oven_time(settings):
    settings.SPECIAL_ORDER_BAKE_SECONDS = 0  # speed only: the same steps run


def run_actor(order: SpecialOrder, *, retries: int) -> None:
    """``bake_special_order`` for ``order``, in this process, as a worker runs it on
    attempt ``retries + 1``."""
    run_as_worker(bake_special_order, order.pk, retries=retries)


@dataclass
class PausedWorker:
    """The first worker of ``worker_paused_in``, paused; its connection's backend pid."""

    backend_pid: int
    resume: threading.Event
    thread: threading.Thread

    def let_it_finish(self) -> None:
        self.resume.set()
        self.thread.join(30)


@contextmanager
def worker_paused_in(
    monkeypatch: pytest.MonkeyPatch, step: str, order: SpecialOrder, *, dies: bool = False
) -> Iterator[PausedWorker]:
    """A worker thread ("worker-1/1", a database connection of its own) delivering
    ``order``'s message, paused where it calls ``orders.baking.<step>`` until resumed; then
    it carries on, or with ``dies`` fails as a worker that is gone. Other threads call
    ``step`` as usual. Needs ``transaction=True``: the threads' rows must be committed."""
    original, backend = getattr(baking, step), []
    paused, resume = threading.Event(), threading.Event()

    def pauses_in_the_first_worker(*args, **kwargs):
        if threading.current_thread() is not worker:
            return original(*args, **kwargs)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend.append(cursor.fetchone()[0])
        paused.set()
        resume.wait(30)
        if dies:
            raise ConnectionResetError("the worker is gone")
        return original(*args, **kwargs)

    def first_worker() -> None:
        try:
            baking.special_order_bake(
                order_id=order.pk, baker="worker-1/1", max_attempts=MAX_ATTEMPTS
            )
        except Exception:  # noqa: BLE001, S110  (its connection was cut: it is "dead")
            pass
        finally:
            connections.close_all()

    monkeypatch.setattr(baking, step, pauses_in_the_first_worker)
    worker = threading.Thread(target=first_worker)
    worker.start()
    try:
        assert paused.wait(10), f"the first worker never reached {step}"
        yield PausedWorker(backend[0], resume, worker)
    finally:
        resume.set()
        worker.join(30)


def cluster_env() -> dict[str, str]:
    """The variables `python -m deploy up` wrote to RUN_DIR/cluster.env."""
    lines = (CHECKOUT / ".run" / "cluster.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def fake_client_address() -> str:
    """A client address no call, in this run or any earlier one, has used.

    The tests' own address is the trusted proxy's, so they may name the client in
    X-Forwarded-For as nginx would. The cluster's rate-limit windows outlive a test run,
    and count an IPv6 client by its /64 (``orders.ratelimit.client_key``), so each
    address is in a random /64 of the IPv6 documentation prefix 2001:db8::/32 (RFC 3849;
    32 random bits), with a random host part: every order, and every run, gets fresh
    windows.
    """
    network = secrets.randbits(32) << 64  # the bits between the /32 and the /64
    return str(IPv6Address(DOCUMENTATION_PREFIX | network | secrets.randbits(64)))


def order_form(slug: str, writing: str) -> dict[str, str]:
    return {
        "product": slug,
        "writing": writing,
        "pickup_date": (timezone.localdate() + timedelta(days=3)).isoformat(),
        # An address of its own: the cluster caps orders per address per day.
        "email": f"customer+{secrets.token_hex(6)}@example.com",
    }


def place_order(
    base_url: str, slug: str, writing: str, *, client: str | None = None
) -> requests.Response:
    """GET the form (CSRF cookie), POST it; the response is not followed."""
    session = new_session()
    form = session.get(f"{base_url}{NEW}?product={slug}", timeout=10)
    assert form.status_code == 200, form.text[:500]
    return session.post(
        f"{base_url}{NEW}",
        data={**order_form(slug, writing), "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"X-Forwarded-For": client or fake_client_address(), "Referer": base_url},
        allow_redirects=False,
        timeout=30,
    )


def placed_uuid(response: requests.Response) -> str:
    assert response.status_code == 302, f"HTTP {response.status_code}: {response.text[:300]}"
    match = re.fullmatch(r"/orders/([0-9a-f-]{36})/", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def order_status(base_url: str, uuid: str) -> dict[str, object]:
    return new_session().get(f"{base_url}/orders/{uuid}/status.json", timeout=10).json()


def wait_until_ready(base_url: str, uuids: list[str], *, timeout: float) -> None:
    pending = set(uuids)

    def all_ready() -> bool:
        for uuid in list(pending):
            status = order_status(base_url, uuid)["status"]
            assert status != "FAILED", f"order {uuid} FAILED"
            if status == "READY":
                pending.discard(uuid)
        return not pending

    wait_for(all_ready, timeout=timeout, what=f"{len(pending)} orders READY")


def shop_order(uuid: str) -> dict[str, object]:
    """The order's row in the cluster's database (not the test database)."""
    with psycopg.connect(cluster_env()["DATABASE_URL"], autocommit=True) as conn:
        row = conn.execute(
            "SELECT status, attempts, baker, image, notified_at FROM orders_specialorder"
            " WHERE uuid = %s",
            (uuid,),
        ).fetchone()
    assert row is not None, f"no order {uuid} in the cluster's database"
    return dict(zip(["status", "attempts", "baker", "image", "notified_at"], row, strict=True))


def emails_about(uuid: str) -> list[str]:
    """Every email in the cluster's mail directory that names order ``uuid``."""
    mail_dir = Path(cluster_env()["DJANGO_EMAIL_FILE_PATH"])
    texts = (path.read_text() for path in mail_dir.glob("*.log"))
    return [message for text in texts for message in text.split("\n" + "-" * 79) if uuid in message]


def wait_for_status(base_url: str, uuid: str, status: str, *, timeout: float) -> float:
    started = time.monotonic()
    wait_for(
        lambda: order_status(base_url, uuid)["status"] == status,
        timeout=timeout,
        what=f"order {uuid} {status}",
    )
    return time.monotonic() - started


@pytest.fixture
def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"
