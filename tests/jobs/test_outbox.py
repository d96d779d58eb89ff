"""The outbox against the cluster's real broker (its own Redis, DRAMATIQ_BROKER_URL).

Jobs here go to a queue no worker consumes (``outbox-test``), so the tests read exactly
what reached the broker and clean it up; the test database's IDs never reach a worker.
"""

from collections.abc import Iterator

import dramatiq
import pytest
from django.db import OperationalError, transaction
from dramatiq.brokers.redis import RedisBroker

from core.breaker import Breaker
from core.request_id import request_id_set
from jobs import outbox
from jobs.errors import BrokerUnavailableError, OutsideTransactionError
from jobs.models import OutboxMessage
from jobs.selectors import job_queue_figures
from replication.lsn import lsn_parse

pytestmark = pytest.mark.django_db(transaction=True)
QUEUE = "outbox-test"


@dramatiq.actor(queue_name=QUEUE, actor_name="outbox_test_job")
def outbox_test_job(item_id: int) -> None:
    """Never run: no worker listens on this queue."""


@pytest.fixture
def broker_queue() -> Iterator[RedisBroker]:
    broker = dramatiq.get_broker()
    assert isinstance(broker, RedisBroker), "the cluster's default broker is Redis"
    broker.flush(QUEUE)
    yield broker
    broker.flush(QUEUE)


def _queued(broker: RedisBroker) -> list[dramatiq.Message]:
    ids = broker.client.lrange(f"{broker.namespace}:{QUEUE}", 0, -1)
    raw = broker.client.hmget(f"{broker.namespace}:{QUEUE}.msgs", ids) if ids else []
    return [dramatiq.Message.decode(data) for data in raw]


def test_a_job_is_sent_after_commit_with_its_id_and_the_commits_lsn(broker_queue):
    with transaction.atomic():
        row = outbox.outbox_enqueue(actor=outbox_test_job, args=(7,))
        assert _queued(broker_queue) == []  # nothing leaves before the commit

    [message] = _queued(broker_queue)
    row.refresh_from_db()
    assert row.sent_at is not None
    assert (message.actor_name, message.args) == ("outbox_test_job", (7,))
    assert message.message_id == str(row.message_id)
    assert lsn_parse(message.options["lsn"]) > 0


def test_a_rolled_back_transaction_sends_nothing(broker_queue):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.outbox_enqueue(actor=outbox_test_job, args=(8,))
        raise RuntimeError("the order failed to save")

    assert not OutboxMessage.objects.exists()
    assert _queued(broker_queue) == []


def test_outside_a_transaction_a_job_is_refused():
    with pytest.raises(OutsideTransactionError):
        outbox.outbox_enqueue(actor=outbox_test_job, args=(9,))


def test_a_broker_failure_leaves_the_job_for_the_relay_which_sends_it(broker_queue, monkeypatch):
    def broker_down(message, *, delay=None):
        raise ConnectionError("broker down")

    monkeypatch.setattr(broker_queue, "enqueue", broker_down)
    with transaction.atomic():  # the request's commit succeeds; its fast path fails
        row = outbox.outbox_enqueue(actor=outbox_test_job, args=(10,))
    row.refresh_from_db()
    assert (row.sent_at, row.attempts) == (None, 1)
    assert "broker down" in row.last_error
    with pytest.raises(BrokerUnavailableError):
        outbox.outbox_send_due()
    assert job_queue_figures()["outbox"]["unsent"] == 1

    monkeypatch.undo()  # the broker is back
    assert outbox.outbox_send_due() == 1

    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2
    assert [m.message_id for m in _queued(broker_queue)] == [str(row.message_id)]
    assert outbox.outbox_send_due() == 0  # sent rows are never sent again


def test_the_request_id_survives_the_relays_hop(broker_queue, monkeypatch):
    def broker_down(message, *, delay=None):
        raise ConnectionError("broker down")

    monkeypatch.setattr(broker_queue, "enqueue", broker_down)
    with request_id_set("test-hop-1"), transaction.atomic():  # a request places an order
        row = outbox.outbox_enqueue(actor=outbox_test_job, args=(11,))
    monkeypatch.undo()
    assert outbox.outbox_send_due() == 1  # the relay, in no request of its own

    [message] = _queued(broker_queue)
    assert message.message_id == str(row.message_id)
    assert message.options["request_id"] == "test-hop-1"


def test_after_a_failed_fast_send_jobs_skip_the_broker_for_a_pause_then_try_again(
    broker_queue, monkeypatch
):
    tries: list[str] = []
    now = [1000.0]
    monkeypatch.setattr(outbox, "fast_path", Breaker(pause_seconds=5, clock=lambda: now[0]))

    def broker_hangs(message, *, delay=None):
        tries.append(message.message_id)
        raise TimeoutError("the broker did not answer within 5 s")

    enqueue = broker_queue.enqueue
    monkeypatch.setattr(broker_queue, "enqueue", broker_hangs)
    for n in range(3):  # three orders placed in this process, one after the other
        with transaction.atomic():
            outbox.outbox_enqueue(actor=outbox_test_job, args=(n,))

    assert len(tries) == 1  # only the first request waited for the broker
    assert [r.attempts for r in OutboxMessage.objects.all()] == [1, 0, 0]  # all for the relay
    monkeypatch.setattr(broker_queue, "enqueue", enqueue)
    now[0] += 4.9  # the broker is back, but the pause is not over
    with transaction.atomic():
        outbox.outbox_enqueue(actor=outbox_test_job, args=(3,))
    assert _queued(broker_queue) == []

    now[0] += 0.2  # the pause is over
    with transaction.atomic():
        row = outbox.outbox_enqueue(actor=outbox_test_job, args=(4,))
    assert [m.message_id for m in _queued(broker_queue)] == [str(row.message_id)]
    assert outbox.outbox_send_due() == 4  # the relay sends the ones left to it


def _unsent_rows(count: int) -> list[OutboxMessage]:
    """``count`` committed jobs the fast path could not send."""
    return [
        OutboxMessage.objects.create(
            actor_name=outbox_test_job.actor_name, queue_name=QUEUE, args=[n]
        )
        for n in range(count)
    ]


class _Killed(BaseException):
    """The relay's process dying (SIGKILL, a failed commit) in the middle of a batch."""


def test_a_relay_dying_mid_batch_has_marked_every_job_it_sent(broker_queue, monkeypatch):
    rows = _unsent_rows(3)
    enqueue = broker_queue.enqueue

    def dies_on_the_third(message, *, delay=None):
        if len(_queued(broker_queue)) == 2:
            raise _Killed
        return enqueue(message, delay=delay)

    monkeypatch.setattr(broker_queue, "enqueue", dies_on_the_third)
    with pytest.raises(_Killed):
        outbox.outbox_send_due()
    monkeypatch.undo()
    assert [r.sent_at is not None for r in OutboxMessage.objects.all()] == [True, True, False]

    assert outbox.outbox_send_due() == 1  # the next relay sends only the one in hand

    assert [m.message_id for m in _queued(broker_queue)] == [str(r.message_id) for r in rows]


def test_a_database_error_while_sending_is_reported_as_such(broker_queue, monkeypatch):
    _unsent_rows(1)

    def database_gone():
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(outbox, "primary_current_lsn", database_gone)
    with pytest.raises(OperationalError):  # not BrokerUnavailableError: the broker is fine
        outbox.outbox_send_due()

    assert OutboxMessage.objects.get().attempts == 0
    assert _queued(broker_queue) == []


def test_queue_figures_count_what_waits_in_the_broker(broker_queue):
    with transaction.atomic():
        outbox.outbox_enqueue(actor=outbox_test_job, args=(11,))

    figures = job_queue_figures()

    assert figures["broker"]["ok"] is True
    assert figures["broker"]["queues"][QUEUE]["ready"] == 1
    assert figures["outbox"] == {"unsent": 0, "oldest_unsent_seconds": None}
