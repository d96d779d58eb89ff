"""Tests: the same services and behaviour as local, only faster where it is safe."""

from .local import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Keys of the test run apart from the local cluster's, on the same Redis servers.
for _cache in CACHES.values():  # noqa: F405
    _cache["KEY_PREFIX"] = "test"
