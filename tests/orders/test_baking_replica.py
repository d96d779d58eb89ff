"""The worker's side of a special order while the replica lags, in-process against the
real primary and streaming replica.

A job reads a replica once it has the order (``jobs.middleware``), but the replica may
not have the job's own later writes, nor those of an earlier delivery of the same
message. These tests commit (``transaction=True``) and make the replica apply WAL 3 s
late, then run the job as a worker thread would: inside the middleware.
"""

import dramatiq
import pytest
from django.core import mail
from django.utils import timezone

from jobs.middleware import ReadAfterSenderCommit
from orders import baking
from orders.actors import MAX_ATTEMPTS
from orders.models import SpecialOrder
from replication.lsn import Lsn, lsn_format, primary_current_lsn
from tests.cluster import wait_for
from tests.factories import SpecialOrderFactory
from tests.replication.replicas import replica_has

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])
Status = SpecialOrder.Status


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.SHOP_PUBLIC_URL = "https://shop.example"


@pytest.fixture
def placed(request: pytest.FixtureRequest) -> tuple[SpecialOrder, Lsn]:
    """A QUEUED order the replica has, and the LSN its message carries; from then on the
    replica applies WAL 3 s late (``delayed_replica``)."""
    order = SpecialOrderFactory()
    lsn = primary_current_lsn()
    wait_for(lambda: replica_has(lsn), timeout=10, what="replica catch-up")
    request.getfixturevalue("delayed_replica")  # only now: the order must be there first
    return order, lsn


def _deliver(order: SpecialOrder, lsn: Lsn) -> SpecialOrder:
    """Run the order's job as a worker thread does, inside the job middleware."""
    message = dramatiq.Message(
        queue_name="orders",
        actor_name="bake_special_order",
        args=(order.pk,),
        kwargs={},
        options={"lsn": lsn_format(lsn)},
    )
    middleware = ReadAfterSenderCommit()
    middleware.before_process_message(None, message)
    try:
        baking.special_order_bake(order_id=order.pk, baker="test/1", max_attempts=MAX_ATTEMPTS)
    finally:
        middleware.after_process_message(None, message, result=None)
    order.refresh_from_db()
    return order


def test_the_ready_email_links_the_baked_picture_while_the_replica_lags(placed):
    order = _deliver(*placed)

    assert order.status == Status.READY and order.image
    [email] = mail.outbox
    assert f"Its picture: https://shop.example/media/{order.image}\n" in email.body


def test_a_redelivery_after_ready_but_before_the_email_sends_it_while_the_replica_lags(placed):
    order, lsn = placed
    # The first delivery committed READY on the primary, then its worker died.
    SpecialOrder.objects.filter(pk=order.pk).update(
        status=Status.READY, image=f"orders/{order.uuid}.png", ready_at=timezone.now()
    )

    order = _deliver(order, lsn)  # the replica still shows the order QUEUED

    assert order.notified_at is not None
    assert order.attempts == 0  # not baked again
    [email] = mail.outbox
    assert f"https://shop.example/media/orders/{order.uuid}.png" in email.body
