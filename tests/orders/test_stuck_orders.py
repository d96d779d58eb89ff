"""Orders whose job is lost are sent again by the periodic sweep, and staff can retry them.

These tests never commit (no ``transaction=True``), so the jobs the sweep records stay in
the test database's outbox and never reach the cluster's broker and workers.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone
from django.utils.module_loading import import_string

from jobs.models import OutboxMessage
from jobs.sweeps import sweeps_registered
from orders import baking, services
from orders.actors import MAX_ATTEMPTS, MAX_RETRIES, STUCK_AFTER
from orders.models import SpecialOrder
from tests.factories import SpecialOrderFactory
from tests.orders.conftest import run_actor

pytestmark = pytest.mark.django_db
Status = SpecialOrder.Status


def _stuck(order: SpecialOrder, *, by: timedelta = timedelta(seconds=1)) -> SpecialOrder:
    """``order`` as if nothing had happened to it for ``STUCK_AFTER`` (and ``by`` more)."""
    SpecialOrder.objects.filter(pk=order.pk).update(updated_at=timezone.now() - STUCK_AFTER - by)
    return order


def _jobs() -> list[list[object]]:
    return [job.args for job in OutboxMessage.objects.all()]


def _database_down(**kwargs):
    raise OperationalError("could not connect to server: Connection refused")


def test_an_order_whose_last_retry_could_not_even_be_recorded_is_baked_after_the_sweep(
    monkeypatch,
):
    order = SpecialOrderFactory()
    monkeypatch.setattr(baking, "special_order_bake", _database_down)
    monkeypatch.setattr(baking, "special_order_fail", _database_down)
    with pytest.raises(OperationalError):
        run_actor(order, retries=MAX_RETRIES)  # the last attempt: dead-lettered
    monkeypatch.undo()  # the database is back
    order.refresh_from_db()
    assert order.status == Status.QUEUED  # and no job left anywhere

    assert services.special_orders_resend_stuck() == 0  # too early to call it lost
    _stuck(order)
    assert services.special_orders_resend_stuck() == 1
    assert _jobs() == [[order.pk]]

    run_actor(order, retries=0)  # what a worker does with that job
    order.refresh_from_db()
    assert order.status == Status.READY
    assert len(mail.outbox) == 1


def test_the_sweep_sends_again_only_orders_queued_or_baking_for_too_long():
    queued, in_oven = _stuck(SpecialOrderFactory()), _stuck(SpecialOrderFactory(status="BAKING"))
    _stuck(SpecialOrderFactory(status=Status.READY))
    _stuck(SpecialOrderFactory(status=Status.FAILED))
    _stuck(SpecialOrderFactory(), by=-timedelta(seconds=30))  # queued, but not for long enough

    assert services.special_orders_resend_stuck() == 2

    assert sorted(_jobs()) == sorted([[queued.pk], [in_oven.pk]])
    # Sending it again is progress: the next sweep waits STUCK_AFTER again.
    assert services.special_orders_resend_stuck() == 0


def test_an_order_that_never_bakes_ends_failed_however_often_it_is_swept(monkeypatch):
    order = SpecialOrderFactory()
    monkeypatch.setattr(baking, "special_order_fail", _database_down)  # never recorded
    monkeypatch.setattr(baking, "render_writing", _database_down)
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(OperationalError):
            run_actor(order, retries=MAX_RETRIES)
        assert services.special_orders_resend_stuck() == 0
        _stuck(order)
        assert services.special_orders_resend_stuck() == 1

    run_actor(order, retries=0)

    order.refresh_from_db()
    assert (order.status, order.attempts) == (Status.FAILED, MAX_ATTEMPTS)
    assert services.special_orders_resend_stuck() == 0


def test_staff_can_retry_a_stuck_order_but_not_one_in_the_oven_right_now(admin_client):
    stuck = _stuck(SpecialOrderFactory(status=Status.BAKING, attempts=MAX_ATTEMPTS))
    busy = SpecialOrderFactory(status=Status.BAKING, attempts=1)

    response = admin_client.post(
        "/admin/orders/specialorder/",
        {"action": "retry", "_selected_action": [stuck.pk, busy.pk]},
        follow=True,
    )

    assert "1 order(s) queued again." in response.text
    assert "1 order(s) were not FAILED or stuck and were left alone." in response.text
    stuck.refresh_from_db()
    assert (stuck.status, stuck.attempts) == (Status.QUEUED, 0)
    assert _jobs() == [[stuck.pk]]


def test_the_outbox_relay_runs_the_stuck_order_sweep_every_minute():
    [sweep] = [s for s in sweeps_registered() if s.path.startswith("orders.")]

    assert sweep.every_seconds == 60
    assert import_string(sweep.path) is services.special_orders_resend_stuck
