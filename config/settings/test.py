"""Tests: the same services and behaviour as local, only faster where it is safe."""

from .local import *  # noqa: F403

DEBUG = False
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
