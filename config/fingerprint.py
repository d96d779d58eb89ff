"""A hash of the settings that must be equal on every clone of one release.

Two clones with different fingerprints would behave differently behind one load
balancer; ``/healthz`` reports it and ``deploy rollout`` compares it. Secrets (settings
and keys named like secrets, and passwords inside URLs) and the per-clone identity are
left out, so the fingerprint can be shown publicly.
"""

import hashlib
import json
import re

from django.conf import settings

PER_CLONE = {"CLONE_NAME", "RELEASE"}
SECRET_MARKERS = ("SECRET", "PASSWORD", "TOKEN", "API_KEY", "PRIVATE")
URL_PASSWORD = re.compile(r"(://[^:/@\s]*):[^@/\s]*@")


def _is_secret(name: str) -> bool:
    return any(marker in name for marker in SECRET_MARKERS)


def _without_secrets(value: object) -> object:
    if isinstance(value, str):
        return URL_PASSWORD.sub(r"\1:<secret>@", value)  # redis://:pw@host, amqp://u:pw@h
    if isinstance(value, dict):
        return {
            str(key): "<secret>" if _is_secret(str(key).upper()) else _without_secrets(item)
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
