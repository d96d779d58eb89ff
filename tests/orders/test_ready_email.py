"""The ready email against the real primary, with a second worker and a dying one.

``orders.baking`` sends the email in a transaction holding the order's row lock and
commits ``notified_at`` only after the mail server took it. These tests commit
(``transaction=True``) and run the first worker in a thread of its own, with a database
connection of its own, which the test then cuts as a SIGKILL of that worker would, or
keeps hanging as a mail server that never answers would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from jobs.models import OutboxMessage
from orders import baking, services
from orders.actors import MAX_ATTEMPTS
from orders.errors import OrderBusyError
from orders.models import SpecialOrder
from tests.factories import SpecialOrderFactory
from tests.orders.conftest import worker_paused_in

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
    with worker_paused_in(monkeypatch, "special_order_ready_email", order, dies=True) as first:
        yield order, first.backend_pid


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


def test_staff_are_told_at_once_that_an_order_being_emailed_is_busy(
    worker_stuck_in_send, admin_client
):
    order, _ = worker_stuck_in_send  # its mail server hangs; the row stays locked
    started = time.monotonic()

    response = admin_client.post(
        "/admin/orders/specialorder/",
        {"action": "email_again", "_selected_action": [order.pk]},
        follow=True,
    )

    assert time.monotonic() - started < 5  # not the mail server's timeout, nor longer
    assert "1 order(s) are being baked or emailed right now" in response.text
    assert "0 order(s) will be emailed again." in response.text
    with pytest.raises(OrderBusyError):
        services.special_order_email_again(order_id=order.pk)
    assert not OutboxMessage.objects.exists()
