"""The local cluster with the read model on (`make up MONGO=1`): status, health, headers.

A cluster started without it (`make test`'s) is switched on for these tests, as a user
would (`deploy up --mongo`, then the sync), and back off after them.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.deploy.helpers import cluster_status, deploy_cli


def _deploy(*args: str) -> None:
    done = deploy_cli(*args, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def mongo_cluster(cluster: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "mongo" in cluster["services"]:
        yield cluster
        return
    _deploy("up", "--mongo")
    try:
        _deploy("manage", "catalog_sync_mongo")
        yield cluster_status()
    finally:
        _deploy("up", "--no-mongo")


def test_status_and_healthz_report_the_mongo_server(mongo_cluster):
    mongo = mongo_cluster["services"]["mongo"]
    assert mongo["healthy"] and mongo["url"].startswith("mongodb://shop:")
    clone = mongo_cluster["clones"][0]["url"]

    health = requests.get(f"{clone}/healthz", timeout=10).json()

    assert health["mongo"]["ok"] is True


def test_catalog_pages_say_which_model_served_them(mongo_cluster, lb_url, product_slug):
    # A query string: nginx never answers it with a prerendered file, a clone does.
    models = [
        requests.get(f"{lb_url}/products/{product_slug}/?dynamic", timeout=10).headers[
            "X-Read-Model"
        ]
        for _ in range(2)
    ]

    assert set(models) <= {"mongo", "sql", "cache"} and models[1] == "cache"
