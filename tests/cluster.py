"""Drive the project's own cluster from app tests, through the cluster tool's CLI."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tests.deploy.helpers import deploy_cli


def deploy(*args: str) -> str:
    """Run ``python -m deploy ARGS`` and return its output; fail the test if it fails."""
    done = deploy_cli(*args)
    assert done.returncode == 0, f"deploy {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


@contextmanager
def stopped(program: str) -> Iterator[None]:
    """The cluster's ``program`` stopped for the block (a fault drill), started again after."""
    deploy("stop", program)
    try:
        yield
    finally:
        deploy("start", program)


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)
