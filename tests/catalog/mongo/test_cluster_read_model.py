"""The local cluster with the read model on (`make up MONGO=1`): status, health, headers.

Skipped, saying so, when the running cluster was started without it.
"""

import pytest
import requests


@pytest.fixture
def mongo_cluster(cluster):
    if "mongo" not in cluster["services"]:
        pytest.skip("the cluster runs without the Mongo read model (`make up MONGO=1` has it)")
    return cluster


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
