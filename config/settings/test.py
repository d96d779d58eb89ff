"""Tests: the same services and behaviour as local, only faster where it is safe."""

from typing import Any, cast

from .local import *  # noqa: F403
from .local import DRAMATIQ_BROKER as _CLUSTER_BROKER

DEBUG = False
# The machinery's own tests use small models of their own (tests/testapp).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Keys of the test run apart from the local cluster's, on the same Redis servers.
# SHOP_TEST_RUN=name gives a run its own test database and keys, so that two test runs
# can share one cluster (their fault drills still stop the same processes).
_run = env.str("SHOP_TEST_RUN", default="")  # noqa: F405
for _cache in CACHES.values():  # noqa: F405
    _cache["KEY_PREFIX"] = f"test-{_run}" if _run else "test"
if _run:
    DATABASES["default"]["TEST"] = {"NAME": f"test_shop_{_run}"}  # noqa: F405

# Jobs an in-process test commits go to the same broker as the cluster's, but under a
# namespace of their own (the Redis broker prefixes every key with it), so the cluster's
# workers never take a message naming a row of the test database; no test expects them
# to. tests/orders/conftest.py empties the namespace at the start and end of a run. An
# amqp:// broker has no namespace: give a test run a virtual host of its own in its URL.
if not DRAMATIQ_BROKER_URL.startswith(("amqp://", "amqps://")):  # noqa: F405
    _cluster_broker = cast(dict[str, Any], _CLUSTER_BROKER)
    _namespace = f"test-{_run}-dramatiq" if _run else "test-dramatiq"
    DRAMATIQ_BROKER = {
        **_cluster_broker,
        "OPTIONS": {**_cluster_broker["OPTIONS"], "namespace": _namespace},
    }

# The catalog is read from PostgreSQL unless a test switches the Mongo read model on, with
# a server of its own (tests/catalog/mongo): the cluster's Mongo, if it runs, holds the
# documents of the cluster's database, not of the test database.
CATALOG_READ_MODEL = "sql"
HEALTHZ_SECTIONS.pop("mongo", None)  # noqa: F405
