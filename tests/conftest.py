"""Shared fixtures; the demo shop's are in tests/shop_fixtures.py.

The services (Postgres primary + replica, Redis, the gunicorn clones behind nginx) are
the project's own, started by ``make test`` with ``python -m deploy up`` before pytest
runs. Tests that drive the cluster take the ``cluster`` fixture (or ``lb_url``), which
fails at once, saying so, when the cluster is not up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.cluster import deploy, stopped
from tests.deploy.helpers import cluster_status, deploy_cli

# The cache's tests on a Redis Cluster too: the ``cache_server`` fixture.
pytest_plugins = ["tests.redis_cluster"]

# A test that takes one of these fixtures, or whose module uses one of these helpers, needs
# the running cluster's processes (nginx, clones, workers): it is marked ``cluster``, so
# ``pytest -m "not cluster"`` runs the others, which need only the data services.
CLUSTER_FIXTURES = {"cluster", "lb_url", "product_slug", "delayed_replica"}
CLUSTER_HELPERS = (deploy, stopped, deploy_cli, cluster_status)


def _needs_cluster(item: pytest.Item) -> bool:
    if CLUSTER_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    module = getattr(item, "module", None)
    names = vars(module).values() if module else ()
    return any(value is helper for value in names for helper in CLUSTER_HELPERS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _needs_cluster(item):
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(autouse=True)
def _every_breaker_closed():
    """Each test starts with every service believed up: the cache, each replica, the broker.

    A failure seen by an earlier test (a replica alias pointed at a closed port, a cache
    made unreachable) would otherwise skip that service in this one for its pause.
    """
    from core.breaker import breakers_reset

    breakers_reset()


@pytest.fixture(autouse=True)
def _empty_test_cache():
    """Each test starts with no cached pages.

    Only the test run's own keys (prefix ``test``, see settings.test) are deleted; the cluster's
    entries on the same Redis stay. Needed because writes in a rolled-back test
    transaction never announce themselves, so they never invalidate anything.
    """
    from django.core.cache import caches

    caches["default"].delete_pattern("*")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploads go to a per-test directory, never the cluster's media directory: a clean
    checkout's cluster has none, and tests must not leave files in it."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def delayed_replica() -> Iterator[None]:
    """The cluster's replica applies each commit 3 s late (``recovery_min_apply_delay``)."""
    deploy("replica-delay", "3")
    try:
        yield
    finally:
        deploy("replica-delay", "0")


@pytest.fixture(scope="session")
def cluster() -> dict[str, Any]:
    """The running cluster's ``status-json``; fails clearly if it is not up and healthy."""
    done = deploy_cli("status-json", timeout=60)
    try:
        status = json.loads(done.stdout)
    except ValueError:
        pytest.fail(
            "`python -m deploy status-json` gave no JSON; is the cluster up? "
            f"Run `python -m deploy up` (make test does).\n{done.stdout}\n{done.stderr}"
        )
    if done.returncode != 0 or not status.get("healthy"):
        pytest.fail(
            "the local cluster is not up and healthy; run `python -m deploy up` "
            f"(make test does). status-json said:\n{json.dumps(status, indent=2)}"
        )
    return status


@pytest.fixture(scope="session")
def lb_url(cluster: dict[str, Any]) -> str:
    return str(cluster["lb"])


@pytest.fixture(scope="session")
def product_slug(lb_url: str) -> str:
    """A published product's slug, seeding the demo catalog (as `make up` does) if empty."""
    # As the app tier: the demo pictures must be the app user's, who bakes onto them.
    seeded = deploy_cli("manage", "seed_catalog", "--if-empty", "--verbosity", "0")
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    home = requests.get(f"{lb_url}/", timeout=10).text
    for category in re.findall(r'href="(/categories/[\w-]+/)"', home):
        page = requests.get(f"{lb_url}{category}", timeout=10).text
        match = re.search(r'href="/products/([\w-]+)/"', page)
        if match:
            return match.group(1)
    pytest.fail("no product link on any category page after `seed_catalog`")
