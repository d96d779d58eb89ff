"""Production settings must refuse to boot without their variables, whatever the
checkout holds (the local cluster's ``.run/cluster.env`` is never read by them)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {
    "DATABASE_URL": "postgres://shop@db.example.com/shop",
    "REDIS_URL": "redis://sessions.example.com/0",
    "REDIS_CACHE_URL": "redis://cache.example.com/0",
    "DRAMATIQ_BROKER_URL": "redis://broker.example.com/0",
}
SECRETS = {"DJANGO_SECRET_KEY": "x" * 60, "DJANGO_ALLOWED_HOSTS": "shop.example.com"}


def _manage_check(**variables):
    """``manage.py check`` with production settings and only ``variables`` set."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICES and "DJANGO" not in k}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.production"} | variables
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", [*SECRETS, *SERVICES])
def test_production_refuses_to_boot_without_each_variable(missing):
    given = {k: v for k, v in (SECRETS | SERVICES).items() if k != missing}
    result = _manage_check(**given, DJANGO_MEDIA_ROOT_IS_SHARED="true")
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_production_boots_with_its_variables():
    result = _manage_check(**SECRETS, **SERVICES, DJANGO_MEDIA_ROOT_IS_SHARED="true")
    assert result.returncode == 0, result.stderr


def test_production_refuses_local_media_that_is_not_declared_shared():
    result = _manage_check(**SECRETS, **SERVICES)
    assert result.returncode != 0
    assert "scaleshop.E004" in result.stderr
