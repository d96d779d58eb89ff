"""Dramatiq middleware of the project."""

from __future__ import annotations

import threading
from contextlib import ExitStack

from dramatiq.middleware import Middleware

from config.lsn import lsn_parse
from config.read_routing import reading_after


class ReadAfterSenderCommit(Middleware):
    """Run each job inside ``reading_after(lsn)``, the LSN carried in its ``lsn`` option.

    The outbox sets that option after the sender's commit, so a job reads from a replica
    only once the replica has replayed the write the job is about; a message without it
    reads like any other job (replica if healthy).
    """

    def __init__(self) -> None:
        self._local = threading.local()  # one message at a time per worker thread

    def before_process_message(self, broker, message) -> None:
        raw = message.options.get("lsn")
        stack = ExitStack()
        stack.enter_context(reading_after(lsn_parse(raw) if raw else None))
        self._local.stack = stack

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        stack = getattr(self._local, "stack", None)
        if stack is not None:
            self._local.stack = None
            stack.close()

    after_skip_message = after_process_message
