"""Several replicas: reads spread over the healthy ones; a dead one, or a server that is
not a replica, costs no read.

The local cluster runs one streaming replica. A second replica alias is added for the
length of a test (``tests.replication.replicas.extra_replica``): either a second name for the
live replica (a stand-in for a second replica host, which the router cannot tell
apart), an address where nothing listens (a replica host that is down), or the primary
itself (a misconfigured URL). Which alias served a read is read off the connections:
the one that ran the query on the book table.
"""

from __future__ import annotations

import logging

import pytest
from django.db import connections

from replication.lsn import primary_current_lsn
from replication.replica_health import replica_is_cooling_down
from replication.routing import reading_after, routing_scope
from tests.cluster import wait_for
from tests.replication.replicas import (
    closed_port,
    extra_replica,
    probes_on,
    read_once,
    replica_has,
    replicated_book,
)
from tests.testapp.models import Book
from tests.testapp.rows import book_create

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def _warnings_about(caplog, alias: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if f"Replica {alias} " in r.getMessage()]


def test_reads_spread_over_every_healthy_replica():
    replicated_book()
    with extra_replica("replica2"):
        served = [read_once("default", "replica", "replica2") for _ in range(40)]

    assert set(served) == {"replica", "replica2"}


def test_a_dead_replica_among_several_is_skipped_and_no_read_fails(caplog):
    replicated_book()
    caplog.set_level(logging.WARNING, logger="replication.replica_health")
    with extra_replica("replica_down", HOST="127.0.0.1", PORT=closed_port()):
        served = [read_once("default", "replica") for _ in range(20)]
        assert replica_is_cooling_down("replica_down")

    assert set(served) == {"replica"}
    warnings = _warnings_about(caplog, "replica_down")
    assert len(warnings) == 1, warnings  # one warning per outage, not one per read
    assert "unreachable" in warnings[0]


def test_a_server_that_is_not_a_replica_is_never_read_from(caplog):
    replicated_book()
    caplog.set_level(logging.WARNING, logger="replication.replica_health")
    primary = connections["default"].settings_dict
    with extra_replica("replica_is_primary", HOST=primary["HOST"], PORT=primary["PORT"]):
        served = [read_once("default", "replica", "replica_is_primary") for _ in range(20)]
        assert replica_is_cooling_down("replica_is_primary")

    assert set(served) == {"replica"}
    warnings = _warnings_about(caplog, "replica_is_primary")
    assert len(warnings) == 1, warnings
    assert "is not a replica" in warnings[0]


def test_an_inner_scope_reads_the_replica_the_outer_one_chose_without_probing_again():
    """Not a second random pick, which could be an older replica than the first."""
    replicated_book()
    written = primary_current_lsn()
    wait_for(lambda: replica_has(written), timeout=10, what="replica catch-up")
    with extra_replica("replica2"):
        for _ in range(10):
            with routing_scope() as outer:
                assert Book.objects.exists()
                with probes_on("replica", "replica2") as probes, reading_after(written) as inner:
                    assert Book.objects.exists()

            assert outer.read_alias in {"replica", "replica2"}
            assert inner.read_alias == outer.read_alias
            assert probes == []


def test_an_inner_scope_waiting_for_a_later_write_than_the_outer_one_saw_probes_again():
    replicated_book()
    with extra_replica("replica2"), routing_scope() as outer:
        assert Book.objects.exists()
        book_create()  # committed after the outer scope chose its replica
        with probes_on("replica", "replica2") as probes, reading_after(primary_current_lsn()):
            assert Book.objects.exists()

    assert outer.read_alias in {"replica", "replica2"}
    assert probes  # the outer choice does not prove the replica has that write
