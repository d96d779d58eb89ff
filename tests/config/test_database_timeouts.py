"""Every wait on a database is bounded, so a server that stops answering costs seconds,
not a gunicorn worker killed at its timeout (a 502)."""

from __future__ import annotations

import logging
import time

import pytest
from django.db import OperationalError, connections

from replication.replica_health import replica_is_cooling_down
from tests.replication.replicas import extra_replica, read_once, replicated_book, silent_port

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def _timed_read(*watched: str) -> tuple[str, float]:
    started = time.monotonic()
    alias = read_once(*watched)
    return alias, time.monotonic() - started


def test_a_replica_that_never_answers_costs_one_read_at_most_the_connect_timeout(settings, caplog):
    replicated_book()
    caplog.set_level(logging.WARNING, logger="replication.replica_health")
    bound = settings.DATABASE_CONNECT_TIMEOUT_SECONDS
    with silent_port() as port, extra_replica("replica_hung", HOST="127.0.0.1", PORT=port):
        reads = []
        while not replica_is_cooling_down("replica_hung"):  # the random pick reaches it
            reads.append(_timed_read("default", "replica"))
            assert len(reads) < 30, "the hung replica was never probed"
        reads += [_timed_read("default", "replica") for _ in range(5)]

    assert {alias for alias, _ in reads} == {"replica"}
    slow = [seconds for _, seconds in reads if seconds > 1]
    assert len(slow) == 1, reads  # then it cools down: no other read waits for it
    assert slow[0] < bound + 1.5
    assert any(
        "replica_hung" in r.getMessage() and "timeout" in r.getMessage() for r in caplog.records
    )


def test_a_read_stuck_on_a_replica_is_cancelled_at_the_statement_timeout(settings):
    bound = settings.REPLICA_STATEMENT_TIMEOUT_SECONDS
    started = time.monotonic()
    with pytest.raises(OperationalError, match="statement timeout"):
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", [bound + 10])

    assert time.monotonic() - started < bound + 1.5
    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("0",)  # the primary's migrations may run long
