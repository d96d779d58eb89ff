"""A replica that trails its received WAL by more than ``REPLICA_MAX_LAG_BYTES`` is
skipped, and used again once it has caught up.

Against the real replica, made to apply each commit 3 s late
(``recovery_min_apply_delay``): the WAL written after a commit arrives at once and waits
behind that commit, which is the backlog the probe measures.
"""

from __future__ import annotations

import logging
import secrets

import pytest

from replication.databases import PRIMARY
from replication.lsn import primary_current_lsn
from tests.cluster import wait_for
from tests.replication.replicas import read_once
from tests.testapp.models import Chapter
from tests.testapp.rows import book_create

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])
BOUND = 64 * 1024


def _messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Replica replica " in r.getMessage()]


def test_a_replica_lagging_beyond_the_bound_is_skipped_until_it_catches_up(
    settings, caplog, delayed_replica
):
    settings.REPLICA_MAX_LAG_BYTES = BOUND
    settings.REPLICA_COOLDOWN_SECONDS = 0.2
    caplog.set_level(logging.WARNING, logger="replication.replica_health")
    book = book_create()  # its commit holds replay for 3 s...
    held_at = primary_current_lsn()
    chapters = [Chapter(book=book, title=secrets.token_hex(100)) for _ in range(5000)]
    Chapter.objects.bulk_create(chapters)  # ...behind it: 1 MB of titles
    assert primary_current_lsn() - held_at > 4 * BOUND

    wait_for(lambda: read_once(PRIMARY, "replica") == PRIMARY, timeout=2, what="a skipped replica")
    wait_for(lambda: read_once(PRIMARY, "replica") == "replica", timeout=15, what="catch-up")

    messages = _messages(caplog)
    assert "bytes of WAL" in messages[0], messages
    assert messages[-1] == "Replica replica is back in use."
