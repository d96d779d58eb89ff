"""The worker's side of a special order, run in-process against the test database.

The real workers and broker are exercised in test_special_order_cluster.py; these tests
pin down each guard of ``orders.baking`` (one bake, one email, a dead baker's order baked
again, FAILED after the last retry or after too many started bakes, staff retry).
"""

from pathlib import Path

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from dramatiq.middleware.time_limit import TimeLimitExceeded
from PIL import Image

from jobs.models import OutboxMessage
from orders import baking, services
from orders.actors import MAX_ATTEMPTS, MAX_RETRIES
from orders.models import SpecialOrder
from tests.factories import PictureFactory, SpecialOrderFactory
from tests.orders.conftest import run_actor

pytestmark = pytest.mark.django_db
Status = SpecialOrder.Status


def _bake(order: SpecialOrder, *, baker: str = "test/1") -> SpecialOrder:
    baking.special_order_bake(order_id=order.pk, baker=baker, max_attempts=MAX_ATTEMPTS)
    order.refresh_from_db()
    return order


def test_bake_makes_the_order_ready_with_its_picture_and_emails_the_customer():
    order = _bake(SpecialOrderFactory(writing="Happy birthday Ana"))

    assert order.status == Status.READY
    assert order.attempts == 1
    assert order.image == f"orders/{order.uuid}.png"
    with default_storage.open(order.image) as stored:
        assert Image.open(stored).size == (640, 480)
    assert len(mail.outbox) == 1
    assert str(order.uuid) in mail.outbox[0].subject
    assert order.customer_email in mail.outbox[0].to


def test_a_duplicate_message_neither_bakes_nor_emails_again():
    order = _bake(SpecialOrderFactory())
    ready_at = order.ready_at

    order = _bake(order)

    assert order.attempts == 1
    assert order.ready_at == ready_at
    assert len(mail.outbox) == 1


def test_an_order_left_baking_by_a_dead_worker_is_baked_again_once():
    order = SpecialOrderFactory(status=Status.BAKING, attempts=1, baker="worker-1/999")

    order = _bake(order)

    assert order.status == Status.READY
    assert order.attempts == 2
    assert len(mail.outbox) == 1


def _smtp_down(**kwargs):
    raise ConnectionRefusedError("smtp down")


def test_a_failed_email_is_sent_by_the_retry(monkeypatch):
    monkeypatch.setattr(baking, "special_order_ready_email", _smtp_down)
    order = SpecialOrderFactory()
    with pytest.raises(ConnectionRefusedError):
        _bake(order)
    monkeypatch.undo()

    order = _bake(order)

    assert order.status == Status.READY and order.attempts == 1
    assert order.notified_at is not None
    assert len(mail.outbox) == 1


def test_an_email_interrupted_by_the_time_limit_is_sent_by_the_retry(monkeypatch):
    def slow_smtp(**kwargs):
        raise TimeLimitExceeded()  # what Dramatiq raises in a worker thread over its limit

    monkeypatch.setattr(baking, "special_order_ready_email", slow_smtp)
    order = SpecialOrderFactory()
    with pytest.raises(TimeLimitExceeded):
        _bake(order)
    monkeypatch.undo()
    order.refresh_from_db()
    assert order.notified_at is None  # the claim was released

    order = _bake(order)

    assert order.notified_at is not None
    assert len(mail.outbox) == 1


def test_an_email_failing_on_every_retry_leaves_the_order_ready_with_the_reason(monkeypatch):
    monkeypatch.setattr(baking, "special_order_ready_email", _smtp_down)
    order = SpecialOrderFactory()

    with pytest.raises(ConnectionRefusedError):
        run_actor(order, retries=0)
    with pytest.raises(ConnectionRefusedError):
        run_actor(order, retries=MAX_RETRIES)  # the last attempt

    order.refresh_from_db()
    assert (order.status, order.failure_reason) == (Status.READY, "")  # the cake is baked
    assert order.notified_at is None
    assert order.notification_error == ("Gave up after retries: ConnectionRefusedError: smtp down")
    assert order.attempts == 1


def test_staff_can_email_a_ready_order_again_through_the_outbox(admin_client, monkeypatch):
    monkeypatch.setattr(baking, "special_order_ready_email", _smtp_down)
    order = SpecialOrderFactory()
    with pytest.raises(ConnectionRefusedError):
        run_actor(order, retries=MAX_RETRIES)
    monkeypatch.undo()  # the mail server is back

    response = admin_client.post(
        "/admin/orders/specialorder/", {"action": "email_again", "_selected_action": [order.pk]}
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.notified_at, order.notification_error) == (None, "")
    job = OutboxMessage.objects.get()
    assert (job.actor_name, job.args) == ("bake_special_order", [order.pk])
    order = _bake(order)  # what the worker does with that job
    assert order.notified_at is not None
    assert order.attempts == 1  # emailed, not baked again
    [email] = mail.outbox
    assert f"/media/orders/{order.uuid}.png" in email.body


def test_email_again_leaves_orders_that_are_not_ready_alone():
    order = SpecialOrderFactory(status=Status.BAKING)
    assert services.special_order_email_again(order_id=order.pk) is False
    assert not OutboxMessage.objects.exists()


def _unbakeable_order(settings, tmp_path: Path) -> SpecialOrder:
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "broken.png").write_text("not a picture")
    order = SpecialOrderFactory()
    PictureFactory(product=order.product, image="catalog/broken.png")
    return order


def test_a_failing_bake_is_retried_then_failed_with_the_reason(settings, tmp_path):
    order = _unbakeable_order(settings, tmp_path)

    with pytest.raises(OSError):
        run_actor(order, retries=0)  # Dramatiq will retry this one
    order.refresh_from_db()
    assert order.status == Status.BAKING

    with pytest.raises(OSError):
        run_actor(order, retries=MAX_RETRIES)  # the last attempt
    order.refresh_from_db()
    assert order.status == Status.FAILED
    assert "cannot identify image file" in order.failure_reason
    assert not mail.outbox


def test_staff_retry_queues_a_failed_order_again_with_a_new_job(admin_client):
    order = SpecialOrderFactory(
        status=Status.FAILED, failure_reason="oven on fire", attempts=MAX_ATTEMPTS
    )
    url = "/admin/orders/specialorder/"

    response = admin_client.post(url, {"action": "retry", "_selected_action": [order.pk]})

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.failure_reason, order.attempts) == (Status.QUEUED, "", 0)
    job = OutboxMessage.objects.get()
    assert (job.actor_name, job.args) == ("bake_special_order", [order.pk])
    assert _bake(order).status == Status.READY  # its attempts start over


def test_retry_leaves_orders_that_are_not_failed_alone():
    order = SpecialOrderFactory(status=Status.READY)
    assert services.special_order_retry(order_id=order.pk) is False
    assert not OutboxMessage.objects.exists()


def test_admin_changelist_shows_queue_figures(admin_client):
    SpecialOrderFactory()
    SpecialOrderFactory(status=Status.FAILED)

    page = admin_client.get("/admin/orders/specialorder/").text

    assert 'id="queue-figures"' in page
    assert "queued 1" in page and "failed 1" in page
    assert "outbox unsent" in page


class _Killed(BaseException):
    """The worker process dying (SIGKILL, out of memory): no except clause of it runs."""


def _dies(**kwargs):
    raise _Killed


def test_an_order_whose_worker_dies_on_every_bake_ends_failed_not_baked_forever(monkeypatch):
    # A killed worker never reaches Dramatiq's Retries middleware: its message comes back
    # with the same retry count, every time.
    monkeypatch.setattr(baking, "render_writing", _dies)
    order = SpecialOrderFactory()
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(_Killed):
            run_actor(order, retries=0)
    monkeypatch.undo()

    run_actor(order, retries=0)  # the broker redelivers it once more

    order.refresh_from_db()
    assert (order.status, order.attempts, order.image) == (Status.FAILED, MAX_ATTEMPTS, "")
    assert f"Gave up after {MAX_ATTEMPTS} bakes were started" in order.failure_reason
    assert not mail.outbox


def test_a_bake_started_again_since_its_own_start_stops_and_leaves_it_to_the_later_one():
    # The second line of defence behind the bake claim (which keeps a second message from
    # starting a bake that is alive, tests/orders/test_duplicate_messages.py): step 3 of
    # ``orders.baking`` bakes only the attempt the row shows.
    order = SpecialOrderFactory()
    first = baking._start(order_id=order.pk, baker="worker-1/1", max_attempts=MAX_ATTEMPTS)
    second = baking._start(order_id=order.pk, baker="worker-2/2", max_attempts=MAX_ATTEMPTS)

    assert baking._bake(order, attempt=first, picture=None, oven=0) is False  # superseded: stops
    assert baking._bake(order, attempt=second, picture=None, oven=0) is True

    order.refresh_from_db()
    assert (order.status, order.attempts, order.baker) == (Status.READY, 2, "worker-2/2")
