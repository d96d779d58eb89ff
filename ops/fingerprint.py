"""A hash of the settings that must be equal on every clone of one release.

Why and how: ``docs/observability.md``."""

import hashlib
import json

from django.conf import settings

from core.errors import without_url_passwords

PER_CLONE = {"CLONE_NAME", "RELEASE"}
# Secrets are matched by whole name or by the last words of a name (EMAIL_HOST_PASSWORD,
# AWS_SECRET_ACCESS_KEY, a PASSWORD key inside DATABASES or a cache's OPTIONS), never by
# a word anywhere in it: PASSWORD_HASHERS, AUTH_PASSWORD_VALIDATORS and
# PASSWORD_RESET_TIMEOUT are behaviour that must be equal on every clone.
SECRET_NAMES = {"SECRET_KEY_FALLBACKS"}
SECRET_SUFFIXES = (
    "PASSWORD",
    "SECRET",
    "SECRET_KEY",
    "SECRET_ACCESS_KEY",
    "TOKEN",
    "API_KEY",
    "PRIVATE_KEY",
    "DSN",
)


def _is_secret(name: str) -> bool:
    name = name.upper()
    return name in SECRET_NAMES or any(
        name == suffix or name.endswith(f"_{suffix}") for suffix in SECRET_SUFFIXES
    )


def _without_secrets(value: object) -> object:
    if isinstance(value, str):
        return without_url_passwords(value)  # redis://:pw@host, amqp://u:pw@h
    if isinstance(value, dict):
        return {
            str(key): "<secret>" if _is_secret(str(key)) else _without_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = [_without_secrets(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    return value


def settings_fingerprint() -> str:
    """sha256 over every upper-case setting but secrets and per-clone values."""
    names = sorted(
        name
        for name in dir(settings)
        if name.isupper() and name not in PER_CLONE and not _is_secret(name)
    )
    snapshot = {name: _without_secrets(getattr(settings, name)) for name in names}
    encoded = json.dumps(snapshot, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]
