"""Orders whose job is lost are sent again by the periodic sweep, and staff can retry them.

"Lost" is counted from when the order's last job reached the broker: a job still waiting
in the outbox (the broker is down) is never taken for lost. These tests never commit (no
``transaction=True``), so the jobs recorded here stay unsent in the test database's
outbox, as during a broker outage, and never reach a broker.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone
from django.utils.module_loading import import_string

from jobs.models import OutboxMessage
from jobs.sweeps import sweeps_configured
from orders import baking, services
from orders.actors import MAX_ATTEMPTS, MAX_RETRIES, STUCK_AFTER, bake_special_order
from orders.models import SpecialOrder
from tests.factories import ProductFactory, SpecialOrderFactory
from tests.orders.conftest import run_actor

pytestmark = pytest.mark.django_db
Status = SpecialOrder.Status
LONG_AGO = STUCK_AFTER + timedelta(seconds=1)


def _last_job_sent(order: SpecialOrder, *, ago: timedelta) -> SpecialOrder:
    """``order`` as if its last job had reached the broker ``ago`` (an order made by the
    factory, which has no job, is given one)."""
    order.refresh_from_db()
    sent_at = timezone.now() - ago
    if order.job_id is None:
        job = OutboxMessage.objects.create(
            actor_name=bake_special_order.actor_name,
            queue_name=bake_special_order.queue_name,
            args=[order.pk],
            sent_at=sent_at,
        )
        SpecialOrder.objects.filter(pk=order.pk).update(job=job)
    else:
        OutboxMessage.objects.filter(pk=order.job_id).update(sent_at=sent_at)
    return order


def _placed() -> SpecialOrder:
    """An order placed through the service: QUEUED, its job unsent in the outbox."""
    return services.special_order_place(
        product=ProductFactory(),
        writing="Happy birthday",
        pickup_date=timezone.localdate() + timedelta(days=3),
        customer_email="ana@example.com",
    )


def _unsent_jobs() -> list[list[object]]:
    return [job.args for job in OutboxMessage.objects.filter(sent_at__isnull=True)]


def _database_down(**kwargs):
    raise OperationalError("could not connect to server: Connection refused")


def test_an_order_whose_last_retry_could_not_even_be_recorded_is_baked_after_the_sweep(
    monkeypatch,
):
    order = _last_job_sent(SpecialOrderFactory(), ago=timedelta(0))
    monkeypatch.setattr(baking, "special_order_bake", _database_down)
    monkeypatch.setattr(baking, "special_order_fail", _database_down)
    with pytest.raises(OperationalError):
        run_actor(order, retries=MAX_RETRIES)  # the last attempt: dead-lettered
    monkeypatch.undo()  # the database is back
    order.refresh_from_db()
    assert order.status == Status.QUEUED  # and no job left anywhere

    assert services.special_orders_resend_stuck() == 0  # too early to call it lost
    _last_job_sent(order, ago=LONG_AGO)
    assert services.special_orders_resend_stuck() == 1
    assert _unsent_jobs() == [[order.pk]]

    run_actor(order, retries=0)  # what a worker does with that job
    order.refresh_from_db()
    assert order.status == Status.READY
    assert len(mail.outbox) == 1


def test_the_sweep_sends_again_only_orders_queued_or_baking_long_after_their_job_was_sent():
    queued = _last_job_sent(SpecialOrderFactory(), ago=LONG_AGO)
    in_oven = _last_job_sent(SpecialOrderFactory(status=Status.BAKING), ago=LONG_AGO)
    _last_job_sent(SpecialOrderFactory(status=Status.READY), ago=LONG_AGO)
    _last_job_sent(SpecialOrderFactory(status=Status.FAILED), ago=LONG_AGO)
    _last_job_sent(SpecialOrderFactory(), ago=STUCK_AFTER - timedelta(seconds=30))  # too soon

    assert services.special_orders_resend_stuck() == 2

    assert sorted(_unsent_jobs()) == sorted([[queued.pk], [in_oven.pk]])
    # The job sent again is each order's last job now, and it has not reached the broker.
    assert services.special_orders_resend_stuck() == 0


def test_an_order_waiting_out_a_broker_outage_longer_than_stuck_after_gets_no_extra_job(
    admin_client,
):
    order = _placed()  # its job waits in the outbox: the broker has been down ever since
    long_ago = timezone.now() - 10 * STUCK_AFTER
    SpecialOrder.objects.filter(pk=order.pk).update(created_at=long_ago, updated_at=long_ago)
    OutboxMessage.objects.update(created_at=long_ago)

    for _ in range(10):  # an hour of sweeps, one every 6 minutes
        assert services.special_orders_resend_stuck() == 0
    admin_client.post(
        "/admin/orders/specialorder/", {"action": "retry", "_selected_action": [order.pk]}
    )

    assert _unsent_jobs() == [[order.pk]]  # the one job, sent once the broker is back


def test_a_sent_job_that_was_lost_is_sent_again_exactly_once_per_stuck_period():
    order = _placed()
    _last_job_sent(order, ago=LONG_AGO)  # sent, then lost (dead-lettered, say)

    assert services.special_orders_resend_stuck() == 1
    assert services.special_orders_resend_stuck() == 0  # the new job waits in the outbox
    _last_job_sent(order, ago=timedelta(0))  # the relay has sent it
    assert services.special_orders_resend_stuck() == 0  # its clock starts now

    assert OutboxMessage.objects.count() == 2
    order.refresh_from_db()
    assert order.job == OutboxMessage.objects.last()
    _last_job_sent(order, ago=LONG_AGO)  # lost too: one more, no more
    assert services.special_orders_resend_stuck() == 1
    assert OutboxMessage.objects.count() == 3


def test_an_order_with_no_job_on_record_counts_from_its_last_change():
    # Placed by the release before SpecialOrder.job, or its job was pruned.
    order = SpecialOrderFactory()
    assert services.special_orders_resend_stuck() == 0
    SpecialOrder.objects.filter(pk=order.pk).update(updated_at=timezone.now() - LONG_AGO)

    assert services.special_orders_resend_stuck() == 1
    assert services.special_orders_resend_stuck() == 0
    assert _unsent_jobs() == [[order.pk]]


def test_an_order_that_never_bakes_ends_failed_however_often_it_is_swept(monkeypatch):
    order = _last_job_sent(SpecialOrderFactory(), ago=timedelta(0))
    monkeypatch.setattr(baking, "special_order_fail", _database_down)  # never recorded
    monkeypatch.setattr(baking, "render_writing", _database_down)
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(OperationalError):
            run_actor(order, retries=MAX_RETRIES)
        assert services.special_orders_resend_stuck() == 0
        _last_job_sent(order, ago=LONG_AGO)
        assert services.special_orders_resend_stuck() == 1

    run_actor(order, retries=0)

    order.refresh_from_db()
    assert (order.status, order.attempts) == (Status.FAILED, MAX_ATTEMPTS)
    assert services.special_orders_resend_stuck() == 0


def test_staff_can_retry_a_stuck_order_but_not_one_in_the_oven_right_now(admin_client):
    stuck = SpecialOrderFactory(status=Status.BAKING, attempts=MAX_ATTEMPTS)
    _last_job_sent(stuck, ago=LONG_AGO)
    busy = _last_job_sent(SpecialOrderFactory(status=Status.BAKING), ago=timedelta(seconds=5))

    response = admin_client.post(
        "/admin/orders/specialorder/",
        {"action": "retry", "_selected_action": [stuck.pk, busy.pk]},
        follow=True,
    )

    assert "1 order(s) queued again." in response.text
    assert "1 order(s) were not FAILED or stuck and were left alone." in response.text
    stuck.refresh_from_db()
    assert (stuck.status, stuck.attempts) == (Status.QUEUED, 0)
    assert _unsent_jobs() == [[stuck.pk]]


def test_the_outbox_relay_runs_the_stuck_order_sweep_every_minute():
    [sweep] = [s for s in sweeps_configured() if s.path.startswith("orders.")]

    assert sweep.every_seconds == 60
    assert import_string(sweep.path) is services.special_orders_resend_stuck
