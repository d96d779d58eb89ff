"""The settings fingerprint: equal on clones of one release, blind to secrets only."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ops.fingerprint import settings_fingerprint

ROOT = Path(__file__).resolve().parents[2]


def _fingerprint_in_new_process(**env_changes) -> str:
    code = (
        "import django; django.setup();"
        "from ops.fingerprint import settings_fingerprint; print(settings_fingerprint())"
    )
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings.test"} | env_changes
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_fingerprint_is_the_same_for_two_clones_of_one_release():
    one = _fingerprint_in_new_process(SHOP_CLONE="clone-1", DJANGO_SECRET_KEY="a" * 50)
    two = _fingerprint_in_new_process(SHOP_CLONE="clone-2", DJANGO_SECRET_KEY="b" * 50)
    assert one == two


def test_fingerprint_changes_when_a_shared_setting_differs():
    base = _fingerprint_in_new_process(DJANGO_ALLOWED_HOSTS="shop.example.com")
    other = _fingerprint_in_new_process(DJANGO_ALLOWED_HOSTS="other.example.com")
    assert base != other


def test_fingerprint_ignores_passwords_inside_urls():
    cache = "redis://:{}@127.0.0.1:26379/0"
    one = _fingerprint_in_new_process(REDIS_CACHE_URL=cache.format("first-password"))
    two = _fingerprint_in_new_process(REDIS_CACHE_URL=cache.format("rotated-password"))
    other_host = _fingerprint_in_new_process(REDIS_CACHE_URL="redis://:x@10.0.0.9:26379/0")
    assert one == two
    assert one != other_host


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PASSWORD_HASHERS", ["django.contrib.auth.hashers.ScryptPasswordHasher"]),
        ("AUTH_PASSWORD_VALIDATORS", []),
        ("PASSWORD_RESET_TIMEOUT", 60),
    ],
)
def test_fingerprint_follows_settings_that_merely_mention_passwords(settings, name, value):
    before = settings_fingerprint()
    setattr(settings, name, value)
    assert settings_fingerprint() != before


def _with_secrets(settings, secret: str) -> str:
    settings.SECRET_KEY = f"{secret}-" * 8
    settings.SECRET_KEY_FALLBACKS = [f"previous-{secret}-" * 8]
    settings.EMAIL_HOST_PASSWORD = secret
    cache = settings.CACHES["default"]
    options = cache["OPTIONS"] | {"PASSWORD": secret}
    settings.CACHES = settings.CACHES | {"default": cache | {"OPTIONS": options}}
    return settings_fingerprint()


def test_fingerprint_ignores_rotated_secrets(settings):
    assert _with_secrets(settings, "first") == _with_secrets(settings, "rotated")
