import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_healthz_reports_identity_and_every_service(client, settings):
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["release"] == settings.RELEASE
    assert body["clone"] == settings.CLONE_NAME
    assert len(body["settings_fingerprint"]) == 16
    assert body["checks"]["database"] == {"ok": True, "in_recovery": False}
    assert body["checks"]["sessions"] == {"ok": True}
    assert body["checks"]["cache"] == {"ok": True}
    assert response["X-Clone"] == settings.CLONE_NAME


def test_healthz_is_503_when_the_session_store_is_unreachable(client, settings):
    settings.CACHES = settings.CACHES | {
        "sessions": settings.CACHES["sessions"] | {"LOCATION": "redis://127.0.0.1:1/0"}
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["sessions"]["ok"] is False


def _fingerprint_in_new_process(**env_changes) -> str:
    code = (
        "import django; django.setup();"
        "from config.fingerprint import settings_fingerprint; print(settings_fingerprint())"
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
    cache = "redis://:{}@127.0.0.1:56379/0"
    one = _fingerprint_in_new_process(REDIS_CACHE_URL=cache.format("first-password"))
    two = _fingerprint_in_new_process(REDIS_CACHE_URL=cache.format("rotated-password"))
    other_host = _fingerprint_in_new_process(REDIS_CACHE_URL="redis://:x@10.0.0.9:56379/0")
    assert one == two
    assert one != other_host
