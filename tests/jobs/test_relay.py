"""The relay loop outlives outages of the broker and of the database, and runs the
periodic sweeps the apps registered.

``outbox_send_due`` is replaced by a script of outcomes (it is tested against the real
broker in test_outbox.py); what is tested here is what the loop does with each.
"""

import logging

import pytest
from django.db import OperationalError

from jobs import relay
from jobs.errors import BrokerUnavailableError

SWEPT: list[str] = []


def sweep_counting() -> int:
    SWEPT.append("counted")
    return 0


def sweep_failing() -> int:
    SWEPT.append("failed")
    raise OperationalError("could not connect to server")


def _database_down(*args, **kwargs):
    raise OperationalError("could not connect to server")


@pytest.fixture
def run_relay(monkeypatch, settings):
    """Run the relay loop over ``outcomes`` (a count sent, or an error raised), no sleeping."""
    settings.JOB_SWEEPS = {}  # none but the test's own
    sleeps: list[float] = []
    monkeypatch.setattr(relay.time, "sleep", sleeps.append)
    monkeypatch.setattr(relay, "outbox_unsent_figures", _database_down)

    def run(outcomes: list[int | Exception]) -> list[float]:
        script = iter(outcomes)
        left = [len(outcomes)]

        def send_due():
            left[0] -= 1
            outcome = next(script)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        monkeypatch.setattr(relay, "outbox_send_due", send_due)
        relay.relay_forever(should_stop=lambda: left[0] == 0)
        return sleeps

    return run


def test_the_relay_backs_off_through_broker_and_database_outages_and_carries_on(
    run_relay, settings, caplog
):
    settings.OUTBOX_RELAY_INTERVAL_SECONDS = 1
    settings.OUTBOX_RELAY_MAX_BACKOFF_SECONDS = 8
    outcomes = [
        BrokerUnavailableError("broker refused job 1"),
        OperationalError("could not connect to server"),
        BrokerUnavailableError("broker refused job 1"),
        BrokerUnavailableError("broker refused job 1"),
        5,
        0,
    ]

    with caplog.at_level(logging.WARNING, logger="jobs.relay"):
        sleeps = run_relay(outcomes)

    assert sleeps == [2, 4, 8, 8, 1]  # doubling while down; sent 5: no wait; idle: interval
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2, warnings  # once when the outage starts, once when it ends
    assert warnings[0].startswith("relay: broker unavailable")
    assert "? jobs wait" in warnings[0]  # the count needs the database, which failed too
    assert warnings[1].startswith("relay: sending again after")


def test_a_database_outage_is_named_as_such(run_relay, caplog):
    with caplog.at_level(logging.WARNING, logger="jobs.relay"):
        run_relay([OperationalError("could not connect to server"), 0])

    assert (
        caplog.records[0]
        .getMessage()
        .startswith("relay: database unavailable (OperationalError: could not connect to server)")
    )


def test_the_relay_runs_each_sweep_on_its_interval_and_outlives_a_failing_one(
    run_relay, caplog, settings
):
    SWEPT.clear()
    settings.JOB_SWEEPS = {
        "failing": (f"{__name__}.sweep_failing", 0),
        "hourly": (f"{__name__}.sweep_counting", 3600),
    }

    with caplog.at_level(logging.WARNING, logger="jobs.sweeps"):
        run_relay([0, 0, 0])

    assert SWEPT == ["failed", "counted", "failed", "failed"]  # hourly: once, at the start
    assert caplog.records[0].getMessage() == (
        "sweep 'failing' failed, next try in 0s: OperationalError: could not connect to server"
    )


def test_no_sweep_runs_while_the_broker_or_the_database_is_down(run_relay, settings):
    SWEPT.clear()
    settings.JOB_SWEEPS = {"always": (f"{__name__}.sweep_counting", 0)}

    run_relay(
        [
            BrokerUnavailableError("broker refused job 1"),
            BrokerUnavailableError("broker refused job 1"),
            OperationalError("could not connect to server"),
            3,  # back: the jobs that waited are sent, then the sweeps run
        ]
    )

    assert SWEPT == ["counted"]
