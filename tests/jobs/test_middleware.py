"""The job middleware against the real primary and streaming replica.

Rows must really reach the replica, so these tests commit (``transaction=True``). Where a
read went is proved on the replica's connection (``CaptureQueriesContext``), as in
tests/replication/test_read_routing.py.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dramatiq
import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from core.request_id import current_request_id
from jobs.middleware import CarryRequestId, ReadAfterSenderCommit
from jobs.models import OutboxMessage
from replication.lsn import Lsn, lsn_format, primary_current_lsn
from replication.routing import RoutingScope, current_scope, note_writes
from tests.cluster import wait_for
from tests.replication.replicas import replica_has

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@contextmanager
def _job(lsn: Lsn) -> Iterator[RoutingScope]:
    """What a worker thread does around a message that carries ``lsn``."""
    message = dramatiq.Message(
        queue_name="q", actor_name="a", args=(), kwargs={}, options={"lsn": lsn_format(lsn)}
    )
    middleware = ReadAfterSenderCommit()
    middleware.before_process_message(None, message)
    try:
        scope = current_scope()
        assert scope is not None
        yield scope
    finally:
        middleware.after_process_message(None, message, result=None)


def _replicated_row() -> tuple[OutboxMessage, Lsn]:
    row = OutboxMessage.objects.create(actor_name="a", queue_name="q")
    lsn = primary_current_lsn()
    wait_for(lambda: replica_has(lsn), timeout=10, what="replica catch-up")
    return row, lsn


def test_a_job_reads_from_the_replica_until_it_writes_then_from_the_primary():
    row, lsn = _replicated_row()

    with _job(lsn) as scope:
        with CaptureQueriesContext(connections["replica"]) as before_write:
            OutboxMessage.objects.get(pk=row.pk)
        OutboxMessage.objects.filter(pk=row.pk).update(last_error="written by the job")
        with CaptureQueriesContext(connections["replica"]) as after_write:
            seen = OutboxMessage.objects.get(pk=row.pk).last_error

    assert before_write.captured_queries, "the job's first read should use the replica"
    assert after_write.captured_queries == [], "a read after the job's write used the replica"
    assert (scope.read_alias, scope.reason) == ("default", "wrote")
    assert seen == "written by the job"


def test_after_a_job_the_worker_thread_is_left_without_scope_or_write_watch():
    _, lsn = _replicated_row()

    with _job(lsn):
        assert note_writes in connections["default"].execute_wrappers

    assert current_scope() is None
    assert note_writes not in connections["default"].execute_wrappers


def test_a_job_runs_and_logs_under_the_request_id_its_message_carries(caplog):
    message = dramatiq.Message(
        queue_name="orders",
        actor_name="bake_special_order",
        args=(1,),
        kwargs={},
        options={"request_id": "test-job-7"},
    )
    middleware = CarryRequestId()
    caplog.set_level("INFO", logger="jobs.middleware")

    middleware.before_process_message(None, message)
    seen = current_request_id()
    middleware.after_process_message(None, message, result=None)

    assert seen == "test-job-7"
    assert current_request_id() is None  # the worker thread's next job starts clean
    assert [r.getMessage() for r in caplog.records] == [
        "job bake_special_order started",
        "job bake_special_order done",
    ]
