"""Moving a running gunicorn clone onto its link's new release without losing capacity:
one more worker at a time (TTIN) until the new ones are ready, then one fewer (TTOU).
"""

from __future__ import annotations

import re
import time
from functools import partial
from pathlib import Path

from .errors import DeployError
from .health import wait_until
from .proc import child_pids
from .supervisord import Supervisor

READY = re.compile(r"Worker ready \(pid: (\d+)\)")  # gunicorn.conf.py's post_worker_init


def hand_over(supervisor: Supervisor, name: str, *, log: Path, timeout: float) -> None:
    """Replace every worker of clone ``name`` by one loaded from its link's release."""
    master = supervisor.processes()[name].pid
    if master is None:
        raise DeployError(f"{name} is not running: nothing to hand over")
    old = child_pids(master)
    new: set[int] = set()
    log_start = log.stat().st_size if log.exists() else 0

    def spawned(known: set[int]) -> bool:
        return bool(child_pids(master) - known)

    for _ in old:
        supervisor.signal(name, "TTIN")
        wait_until(
            partial(spawned, old | new), what=f"{name}: a new worker", timeout=timeout, log=log
        )
        new |= child_pids(master) - old
    wait_until(
        lambda: new <= _ready_workers(log, log_start),
        what=f"{name}: new workers {sorted(new)} loading the release",
        timeout=timeout,
        log=log,
    )
    for _ in old:
        # gunicorn stops its oldest workers beyond the new count: after as many TTOUs as
        # there were old workers, exactly the old ones. Spaced, as gunicorn's signal queue
        # holds only five.
        supervisor.signal(name, "TTOU")
        time.sleep(0.1)
    wait_until(
        lambda: not child_pids(master) & old,
        what=f"{name}: old workers {sorted(old)} finishing their requests",
        timeout=timeout,
        log=log,
    )


def _ready_workers(log: Path, start: int) -> set[int]:
    with log.open("rb") as lines:
        if log.stat().st_size >= start:  # else rotated meanwhile: read it all
            lines.seek(start)
        text = lines.read().decode(errors="replace")
    return {int(pid) for pid in READY.findall(text)}
