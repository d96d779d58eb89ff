"""Production settings must refuse to boot without their variables, whatever the
checkout holds (the local cluster's ``.run/cluster.env`` is never read by them), and
behave as a clone behind a load balancer must."""

import ast
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


def _manage(*command: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """``manage.py COMMAND`` with production settings and only ``variables`` set."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICES and "DJANGO" not in k}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.production"} | variables
    return subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", [*SECRETS, *SERVICES])
def test_production_refuses_to_boot_without_each_variable(missing):
    given = {k: v for k, v in (SECRETS | SERVICES).items() if k != missing}
    result = _manage("check", **given, DJANGO_MEDIA_ROOT_IS_SHARED="true")
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_production_boots_with_its_variables():
    result = _manage("check", **SECRETS, **SERVICES, DJANGO_MEDIA_ROOT_IS_SHARED="true")
    assert result.returncode == 0, result.stderr


def test_production_refuses_local_media_that_is_not_declared_shared():
    result = _manage("check", **SECRETS, **SERVICES)
    assert result.returncode != 0
    assert "scaleshop.E004" in result.stderr


def _production_shell(code: str, **variables: str) -> list[str]:
    """The lines ``code`` prints in ``manage.py shell`` under production settings."""
    given = SECRETS | SERVICES | {"DJANGO_MEDIA_ROOT_IS_SHARED": "true"} | variables
    result = _manage("shell", "-c", code, **given)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_each_replica_url_becomes_a_replica_alias_mirroring_the_primary():
    replicas = "postgres://shop@r1.example.com/shop,postgres://shop@r2.example.com:6432/shop"
    show = (
        "from django.conf import settings as s; d = s.DATABASES;"
        "print(s.DATABASE_REPLICAS, d['replica2']['HOST'], d['replica2']['PORT'],"
        " d['replica2']['TEST']['MIRROR'])"
    )
    lines = _production_shell(show, REPLICA_DATABASE_URL=replicas)
    assert lines[-1] == "['replica', 'replica2'] r2.example.com 6432 default"


def test_every_database_wait_is_bounded_and_a_url_may_set_its_own():
    show = (
        "from django.conf import settings as s; d = s.DATABASES;"
        "print(d['default']['OPTIONS']); print(d['replica']['OPTIONS'])"
    )
    lines = _production_shell(
        show,
        DATABASE_URL="postgres://shop@db.example.com/shop?connect_timeout=7",
        REPLICA_DATABASE_URL="postgres://shop@r1.example.com/shop",
        DATABASE_CONNECT_TIMEOUT_SECONDS="4",
        REPLICA_STATEMENT_TIMEOUT_SECONDS="2.5",
    )
    primary, replica = (ast.literal_eval(line) for line in lines[-2:])
    assert primary == {"connect_timeout": 7, "tcp_user_timeout": 10_000}
    assert replica == {
        "connect_timeout": 4,
        "tcp_user_timeout": 10_000,
        "options": "-c statement_timeout=2500",
    }


def test_a_clone_answers_health_checks_at_its_own_address_and_nothing_else():
    """The load balancer asks each clone over plain HTTP at the clone's own address."""
    ask = (
        "from django.test import Client; c = Client()\n"
        "for host, path in [('127.0.0.1:8001', '/healthz'), ('127.0.0.1:8001', '/'),"
        " ('shop.example.com', '/')]:\n"
        "    r = c.get(path, HTTP_HOST=host); print(r.status_code, r.get('Location', '-'))"
    )
    cluster = {name: os.environ[name] for name in SERVICES}  # the running services

    lines = _production_shell(ask, **cluster)

    assert lines[-3:] == ["200 -", "400 -", "301 https://shop.example.com/"]
