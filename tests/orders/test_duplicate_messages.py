"""Several messages for one order, with worker threads against the real primary.

A duplicate comes from the stuck-order sweep re-sending a job that was only slow, or
from a broker redelivering. The first worker here is paused between starting its bake and
baking (steps 2 and 3 of ``orders.baking``), where it holds no row lock, only the order's
bake claim; this thread plays the other workers. These tests commit
(``transaction=True``): each thread has a connection of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core import mail
from django.db import connection

from orders import baking
from orders.actors import MAX_ATTEMPTS
from orders.models import SpecialOrder
from tests.factories import SpecialOrderFactory
from tests.orders.conftest import PausedWorker, worker_paused_in

pytestmark = pytest.mark.django_db(transaction=True)
Status = SpecialOrder.Status


def _deliver(order: SpecialOrder, baker: str) -> None:
    baking.special_order_bake(order_id=order.pk, baker=baker, max_attempts=MAX_ATTEMPTS)


def _row(order: SpecialOrder) -> tuple[str, int, str]:
    order.refresh_from_db()
    return order.status, order.attempts, order.baker


@pytest.fixture
def paused_bake(monkeypatch) -> Iterator[PausedWorker]:
    """A QUEUED order whose first worker has committed BAKING and not yet baked."""
    with worker_paused_in(monkeypatch, "_bake", SpecialOrderFactory()) as first:
        yield first


def test_duplicates_arriving_while_a_bake_is_alive_neither_count_nor_fail_the_order(
    paused_bake,
):
    order = SpecialOrder.objects.get()
    for n in range(MAX_ATTEMPTS + 1):  # each counted as a bake, these would fail the order
        _deliver(order, f"worker-2/{n}")

    assert _row(order) == (Status.BAKING, 1, "worker-1/1")
    assert mail.outbox == []

    paused_bake.let_it_finish()

    assert _row(order) == (Status.READY, 1, "worker-1/1")
    assert len(mail.outbox) == 1


def test_a_bake_whose_worker_died_is_started_again_by_the_next_message(paused_bake):
    order = SpecialOrder.objects.get()
    with connection.cursor() as cursor:  # the first worker dies: its connection drops
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [paused_bake.backend_pid])

    _deliver(order, "worker-2/2")  # the broker redelivers its message

    assert _row(order) == (Status.READY, 2, "worker-2/2")
    paused_bake.let_it_finish()  # the "dead" worker's thread ends without baking
    assert _row(order) == (Status.READY, 2, "worker-2/2")
    assert len(mail.outbox) == 1
