"""The ready email against the real primary, with a second worker and a dying one.

``orders.baking`` sends the email in a transaction holding the order's row lock and
commits ``notified_at`` only after the mail server took it. These tests commit
(``transaction=True``) and run the first worker in a thread of its own, with a database
connection of its own, which the test then cuts as a SIGKILL of that worker would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from orders import baking
from orders.actors import MAX_ATTEMPTS
from orders.models import SpecialOrder
from tests.factories import SpecialOrderFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])
Status = SpecialOrder.Status


def _deliver(order: SpecialOrder, baker: str) -> None:
    baking.special_order_bake(order_id=order.pk, baker=baker, max_attempts=MAX_ATTEMPTS)


def _notified(order: SpecialOrder) -> bool:
    return SpecialOrder.objects.using("default").get(pk=order.pk).notified_at is not None


@pytest.fixture
def worker_stuck_in_send(monkeypatch) -> Iterator[tuple[SpecialOrder, int]]:
    """A READY order whose first worker is in the middle of sending its email (its
    connection's backend pid is given), while this thread plays the other workers."""
    order = SpecialOrderFactory(
        status=Status.READY, image="orders/cake.png", ready_at=timezone.now()
    )
    send, backend = baking.special_order_ready_email, []
    sending, release = threading.Event(), threading.Event()

    def hangs_in_the_first_worker(*, order):
        if threading.current_thread() is not worker:
            return send(order=order)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend.append(cursor.fetchone()[0])
        sending.set()
        release.wait(30)
        raise ConnectionResetError("the worker is gone")

    def first_worker() -> None:
        try:
            _deliver(order, "worker-1/1")
        except Exception:  # noqa: BLE001, S110  (its connection was cut: it is "dead")
            pass
        finally:
            connections.close_all()

    monkeypatch.setattr(baking, "special_order_ready_email", hangs_in_the_first_worker)
    worker = threading.Thread(target=first_worker)
    worker.start()
    assert sending.wait(10), "the first worker never reached the email"
    try:
        yield order, backend[0]
    finally:
        release.set()
        worker.join(30)


def test_a_second_message_leaves_an_email_being_sent_alone(worker_stuck_in_send):
    order, _ = worker_stuck_in_send

    _deliver(order, "worker-2/2")

    assert mail.outbox == []
    assert not _notified(order)


def test_an_email_whose_worker_died_mid_send_is_sent_by_the_redelivery(worker_stuck_in_send):
    order, backend = worker_stuck_in_send
    with connection.cursor() as cursor:  # the first worker dies: its connection drops
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [backend])

    _deliver(order, "worker-2/2")  # the broker redelivers its message

    [email] = mail.outbox
    assert str(order.uuid) in email.subject
    assert _notified(order)
