"""How many messages wait in the broker, per queue, for the Redis and RabbitMQ brokers."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker


def _redis_counts(broker: RedisBroker, queue: str) -> dict[str, int]:
    key = f"{broker.namespace}:{queue}"
    pipe = broker.client.pipeline(transaction=False)
    pipe.llen(key)  # waiting for a worker
    pipe.hlen(f"{key}.msgs")  # waiting + taken by a worker, not yet acknowledged
    pipe.hlen(f"{key}.DQ.msgs")  # delayed (retries waiting for their backoff)
    pipe.zcard(f"{key}.XQ")  # dead-lettered
    ready, unacked, delayed, dead = pipe.execute()
    return {"ready": ready, "in_progress": unacked - ready, "delayed": delayed, "dead": dead}


def _rabbitmq_counts(broker: RabbitmqBroker, queue: str) -> dict[str, int]:
    ready, delayed, dead = broker.get_queue_message_counts(queue)
    return {"ready": ready, "delayed": delayed, "dead": dead}


def broker_queue_figures() -> dict[str, Any]:
    """``{"kind", "depth", "queues": {name: counts}}`` for every declared queue.

    ``depth`` is the number of messages ready for a worker. Raises whatever the broker
    client raises when the broker is unreachable.
    """
    broker = dramatiq.get_broker()
    names = sorted(broker.get_declared_queues())
    if isinstance(broker, RedisBroker):
        kind, queues = "redis", {name: _redis_counts(broker, name) for name in names}
    elif isinstance(broker, RabbitmqBroker):
        kind, queues = "rabbitmq", {name: _rabbitmq_counts(broker, name) for name in names}
    else:
        return {"kind": type(broker).__name__, "depth": None, "queues": {}}
    return {
        "kind": kind,
        "depth": sum(q["ready"] for q in queues.values()),
        "queues": queues,
    }
