"""Dramatiq middleware of the project."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import ExitStack

from django.db import connections
from dramatiq.middleware import Middleware

from core.request_id import request_id_set
from replication.databases import PRIMARY
from replication.lsn import lsn_parse
from replication.routing import note_writes, reading_after

logger = logging.getLogger(__name__)


class ReadAfterSenderCommit(Middleware):
    """Run each job inside ``reading_after(lsn)``, the LSN carried in its ``lsn`` option.

    The outbox sets that option after the sender's commit, so a job reads from a replica
    only once the replica has replayed the write the job is about; a message without it
    reads like any other job (replica if healthy). As for a request
    (``replication.read_your_writes``), the primary's connection tells the scope when the job
    writes, so every read after the job's own write goes to the primary: a replica does
    not have that write yet.
    """

    def __init__(self) -> None:
        self._local = threading.local()  # one message at a time per worker thread

    def before_process_message(self, broker, message) -> None:
        raw = message.options.get("lsn")
        with ExitStack() as stack:
            stack.enter_context(reading_after(lsn_parse(raw) if raw else None))
            stack.enter_context(connections[PRIMARY].execute_wrapper(note_writes))
            self._local.stack = stack.pop_all()

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        stack = getattr(self._local, "stack", None)
        if stack is not None:
            self._local.stack = None
            stack.close()

    after_skip_message = after_process_message


class CarryRequestId(Middleware):
    """Run each job under the request id in its ``request_id`` option (the request that
    recorded it, ``jobs.outbox``), and log its start and end with it."""

    def __init__(self) -> None:
        self._local = threading.local()

    def before_process_message(self, broker, message) -> None:
        with ExitStack() as stack:
            stack.enter_context(request_id_set(message.options.get("request_id")))
            self._local.stack, self._local.started = stack.pop_all(), time.perf_counter()
        logger.info("job %s started", message.actor_name, extra={"message_id": message.message_id})

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            return
        logger.info(
            "job %s %s",
            message.actor_name,
            "failed" if exception is not None else "done",
            extra={
                "message_id": message.message_id,
                "duration_ms": round(1000 * (time.perf_counter() - self._local.started), 1),
            },
        )
        self._local.stack = None
        stack.close()

    after_skip_message = after_process_message
