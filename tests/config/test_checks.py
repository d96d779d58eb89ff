"""Cluster-mode system checks refuse settings that keep state inside one clone."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from config import checks

LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
REDIS = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}


@pytest.fixture
def cluster_mode(settings):
    settings.CLUSTER_MODE = True
    settings.MEDIA_ROOT_IS_SHARED = True
    return settings


def _ids(errors):
    return [error.id for error in errors]


def test_local_cache_is_refused_in_cluster_mode(cluster_mode):
    cluster_mode.CACHES = {"default": LOCMEM, "sessions": REDIS}
    errors = checks.check_caches_are_shared()
    assert _ids(errors) == ["scaleshop.E001"]
    assert "lives inside one clone" in errors[0].msg


@pytest.mark.parametrize(
    "engine",
    ["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.file"],
)
def test_database_and_file_sessions_are_refused_in_cluster_mode(cluster_mode, engine):
    cluster_mode.SESSION_ENGINE = engine
    assert _ids(checks.check_sessions_are_shared()) == ["scaleshop.E002"]


def test_sessions_in_a_local_cache_are_refused_in_cluster_mode(cluster_mode):
    cluster_mode.CACHES = {"default": REDIS, "sessions": LOCMEM}
    assert _ids(checks.check_sessions_are_shared()) == ["scaleshop.E003"]


def test_local_media_is_refused_unless_declared_shared(cluster_mode):
    cluster_mode.MEDIA_ROOT_IS_SHARED = False
    errors = checks.check_media_is_shared()
    assert _ids(errors) == ["scaleshop.E004"]
    assert "DJANGO_MEDIA_ROOT_IS_SHARED" in errors[0].hint


def test_the_shipped_settings_pass_in_cluster_mode(cluster_mode):
    assert checks.check_caches_are_shared() == []
    assert checks.check_sessions_are_shared() == []
    assert checks.check_media_is_shared() == []


def test_local_state_is_allowed_outside_cluster_mode(settings):
    settings.CLUSTER_MODE = False
    settings.CACHES = {"default": LOCMEM, "sessions": LOCMEM}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    assert checks.check_caches_are_shared() == []
    assert checks.check_sessions_are_shared() == []
    assert checks.check_media_is_shared() == []


def test_manage_check_fails_with_the_message(cluster_mode):
    cluster_mode.CACHES = {"default": LOCMEM, "sessions": REDIS}
    with pytest.raises(SystemCheckError, match="scaleshop.E001"):
        call_command("check")


def test_a_session_cache_alias_missing_from_caches_is_reported_not_a_crash(cluster_mode):
    cluster_mode.SESSION_CACHE_ALIAS = "carts"
    errors = checks.check_sessions_are_shared()
    assert _ids(errors) == ["scaleshop.E005"]
    assert "'carts'" in errors[0].msg
