"""One mutating command at a time per cluster: an advisory flock on ``RUN_DIR/deploy.lock``,
dropped by the kernel when its holder exits.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from .errors import LockedError
from .paths import Layout

# Longer than the slowest `up` (release phase, pg_basebackup); still bounded.
WAIT_SECONDS = 900.0


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    return handle.read().strip() or "unknown command"


@contextmanager
def exclusive(layout: Layout, command: str, timeout: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold the cluster's lock while ``command`` runs; wait for it (bounded, saying so).

    Without a RUN_DIR there is no cluster to protect, and nothing is locked.
    """
    if not layout.run_dir.is_dir():
        yield
        return
    with layout.lock_file.open("a+") as handle:
        if not _try_lock(handle):
            holder = _holder(handle)
            print(
                f"waiting for another deploy command to finish ({holder}; up to {timeout:.0f}s)",
                file=sys.stderr,
                flush=True,
            )
            deadline = time.monotonic() + timeout
            while not _try_lock(handle):
                if time.monotonic() > deadline:
                    raise LockedError(
                        f"another deploy command ({_holder(handle)}) still holds "
                        f"{layout.lock_file} after {timeout:.0f}s; try again when it is done"
                    )
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}: {command}\n")
        handle.flush()
        yield
