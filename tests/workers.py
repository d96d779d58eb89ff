"""Running an actor's function in the test process, as a Dramatiq worker would."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage


def run_as_worker(actor: dramatiq.Actor, *args: Any, retries: int) -> None:
    """``actor``'s function, called as a worker calls it on attempt ``retries + 1`` (or on
    a redelivery after a worker died, which keeps the count): with its current message
    set, so the actor can read its retry count."""
    message = dramatiq.Message(
        queue_name=actor.queue_name,
        actor_name=actor.actor_name,
        args=args,
        kwargs={},
        options={"retries": retries},
    )
    CurrentMessage().before_process_message(None, message)
    try:
        actor.fn(*args)
    finally:
        CurrentMessage().after_process_message(None, message)
