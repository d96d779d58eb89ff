"""Dramatiq actors of prerendering. Thin: take plain values, call the services."""

import subprocess
import sys

import dramatiq
from django.conf import settings

from prerender.services import pages_rerender


@dramatiq.actor(
    queue_name="prerender", max_retries=10, min_backoff=200, max_backoff=10_000, time_limit=60_000
)
def prerender_pages(paths: list[str], product_ids: list[int]) -> None:
    """Render pages taken out of service by a change, and put them back."""
    pages_rerender(paths=paths, product_ids=product_ids)


BUILD_SECONDS = 900


@dramatiq.actor(queue_name="prerender", max_retries=0, time_limit=(BUILD_SECONDS + 30) * 1000)
def prerender_site() -> None:
    """The full build, in a process of its own (it forks rendering processes, which a
    threaded worker must not do)."""
    subprocess.run(  # noqa: S603  (our own interpreter and manage.py, no user input)
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "prerender", "--verbosity", "0"],
        check=True,
        timeout=BUILD_SECONDS,
    )
