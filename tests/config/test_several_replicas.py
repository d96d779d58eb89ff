"""Several replicas: reads spread over the healthy ones, and a dead one costs no read.

The local cluster runs one streaming replica. A second replica alias is added for the
length of a test, the way ``REPLICA_DATABASE_URL=url1,url2`` adds ``replica2``: either a
second name for the live replica (a stand-in for a second replica host, which the
router cannot tell apart), or an address where nothing listens (a replica host that is
down; named apart, since its cool-down outlives the test). Which alias served a read
is read off the connections, not off the router.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext, override_settings

from catalog.models import Product
from config.read_routing import routing_scope
from config.replica_health import replica_is_cooling_down
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@contextmanager
def _extra_replica(alias: str, **overrides: object) -> Iterator[None]:
    """Add replica ``alias``: a connection like ``replica``'s, with ``overrides``.

    The connection is handed to Django's handler directly instead of through
    ``DATABASES``, which Django's test case reads once, when the test starts.
    """
    replica = connections["replica"]
    connections[alias] = type(replica)({**replica.settings_dict, **overrides}, alias)
    try:
        with override_settings(DATABASE_REPLICAS=["replica", alias]):
            yield
    finally:
        connections[alias].close()
        del connections[alias]


def _closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _read_in_new_scope() -> str:
    with routing_scope() as scope:
        assert Product.objects.exists()
        return scope.read_alias or ""


def test_reads_spread_over_every_healthy_replica():
    ProductFactory()  # committed; the replica has it or gets it soon, either way it answers
    with (
        _extra_replica("replica2"),
        CaptureQueriesContext(connections["replica"]) as on_first,
        CaptureQueriesContext(connections["replica2"]) as on_second,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        chosen = {_read_in_new_scope() for _ in range(40)}

    assert chosen == {"replica", "replica2"}
    assert on_first.captured_queries and on_second.captured_queries
    assert not on_primary.captured_queries


def test_a_dead_replica_among_several_is_skipped_and_no_read_fails(caplog):
    ProductFactory()
    caplog.set_level(logging.WARNING, logger="config.replica_health")
    with (
        _extra_replica("replica_down", HOST="127.0.0.1", PORT=_closed_port()),
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        chosen = [_read_in_new_scope() for _ in range(20)]
        assert replica_is_cooling_down("replica_down")

    assert set(chosen) == {"replica"}
    assert not on_primary.captured_queries
    warnings = [r.getMessage() for r in caplog.records if "replica_down" in r.getMessage()]
    assert len(warnings) == 1, warnings  # one warning per outage, not one per read
    assert "unreachable" in warnings[0]
