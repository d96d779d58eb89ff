"""One circuit breaker for the cache, each replica and the outbox's fast path.

A failure leaves the dependency alone for a pause; an outage is announced once, when it
starts, and once when it ends.
"""

import pytest

from core.breaker import Breaker, breakers_reset
from replication.replica_health import replica_is_cooling_down, replica_probe
from tests.replication.replicas import closed_port, extra_replica


def _breaker(now: list[float], pause: float = 5.0) -> Breaker:
    return Breaker(pause_seconds=pause, clock=lambda: now[0])


def test_a_failure_leaves_the_dependency_alone_for_the_pause():
    now = [100.0]
    breaker = _breaker(now)
    assert not breaker.is_open()

    breaker.failed()
    now[0] += 4.9
    assert breaker.is_open()
    now[0] += 0.2
    assert not breaker.is_open()  # tried again after the pause


def test_an_outage_starts_at_its_first_failure_and_ends_at_a_success():
    now = [100.0]
    breaker = _breaker(now)

    starts = [breaker.failed()]
    now[0] += 10  # past the pause, tried again: still failing
    starts.append(breaker.failed())

    assert starts == [True, False]  # one warning per outage
    assert breaker.succeeded() is True  # "is back", once
    assert breaker.succeeded() is False
    assert breaker.failed() is True  # a new outage


def test_the_pause_is_read_when_a_failure_happens():
    now = [100.0]
    pause = [5.0]
    breaker = Breaker(pause_seconds=lambda: pause[0], clock=lambda: now[0])

    pause[0] = 0.5  # e.g. a setting changed after the breaker was made
    breaker.failed()
    now[0] += 0.6

    assert breaker.pause_seconds == 0.5
    assert not breaker.is_open()


def test_reset_closes_every_breaker_and_forgets_its_outage():
    now = [100.0]
    breakers = [_breaker(now), _breaker(now)]
    for breaker in breakers:
        breaker.failed()

    breakers_reset()

    assert not any(breaker.is_open() for breaker in breakers)
    assert [breaker.failed() for breaker in breakers] == [True, True]  # new outages


@pytest.mark.django_db(databases=["default", "replica"])
def test_reset_also_ends_the_cool_down_of_every_replica():
    with extra_replica("replica_reset", HOST="127.0.0.1", PORT=closed_port()):
        assert replica_probe("replica_reset") is None
        assert replica_is_cooling_down("replica_reset")

        breakers_reset()

        assert not replica_is_cooling_down("replica_reset")
