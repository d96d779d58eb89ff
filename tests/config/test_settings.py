"""Production settings must refuse to boot without their secrets."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage_check(**env_changes):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.production"} | env_changes
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_boot_without_secret_key():
    result = _manage_check(DJANGO_ALLOWED_HOSTS="shop.example.com")
    assert result.returncode != 0
    assert "Set the DJANGO_SECRET_KEY environment variable" in result.stderr


def test_production_refuses_to_boot_without_allowed_hosts():
    result = _manage_check(DJANGO_SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "Set the DJANGO_ALLOWED_HOSTS environment variable" in result.stderr


def test_production_boots_with_its_variables():
    result = _manage_check(
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_ALLOWED_HOSTS="shop.example.com",
        DJANGO_MEDIA_ROOT_IS_SHARED="true",
    )
    assert result.returncode == 0, result.stderr


def test_production_refuses_local_media_that_is_not_declared_shared():
    result = _manage_check(DJANGO_SECRET_KEY="x" * 60, DJANGO_ALLOWED_HOSTS="shop.example.com")
    assert result.returncode != 0
    assert "scaleshop.E004" in result.stderr
