"""System checks that keep clones identical and stateless (seed lesson 1).

Why and how: ``docs/lessons/1-clones.md``."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.files.storage import FileSystemStorage, storages

LOCAL_CACHE_BACKENDS = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.filebased.FileBasedCache",
    "django.core.cache.backends.dummy.DummyCache",
}
LOCAL_SESSION_ENGINES = {
    "django.contrib.sessions.backends.file",
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
}


@register(Tags.caches)
def check_caches_are_shared(app_configs=None, **kwargs) -> list[Error]:
    if not settings.CLUSTER_MODE:
        return []
    return [
        Error(
            f"Cache {alias!r} uses {config['BACKEND']}, which lives inside one clone.",
            hint="Point it at Redis (django_redis.cache.RedisCache) so all clones share it.",
            id="scaleshop.E001",
        )
        for alias, config in settings.CACHES.items()
        if config["BACKEND"] in LOCAL_CACHE_BACKENDS
    ]


@register("sessions")
def check_sessions_are_shared(app_configs=None, **kwargs) -> list[Error]:
    if not settings.CLUSTER_MODE:
        return []
    if settings.SESSION_ENGINE in LOCAL_SESSION_ENGINES:
        return [
            Error(
                f"SESSION_ENGINE is {settings.SESSION_ENGINE}; clones need one central store "
                "that does not load the primary database on every request.",
                hint="Use django.contrib.sessions.backends.cache with a Redis cache alias.",
                id="scaleshop.E002",
            )
        ]
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.cache":
        if settings.SESSION_CACHE_ALIAS not in settings.CACHES:
            return [
                Error(
                    f"SESSION_CACHE_ALIAS is {settings.SESSION_CACHE_ALIAS!r}, which is not "
                    f"a cache in CACHES ({', '.join(settings.CACHES)}).",
                    hint="Point it at the Redis cache that never evicts ('sessions' as shipped).",
                    id="scaleshop.E005",
                )
            ]
        backend = settings.CACHES[settings.SESSION_CACHE_ALIAS]["BACKEND"]
        if backend in LOCAL_CACHE_BACKENDS:
            return [
                Error(
                    f"Sessions are kept in cache {settings.SESSION_CACHE_ALIAS!r} ({backend}), "
                    "which lives inside one clone: the cart would vanish on the next clone.",
                    hint="Point SESSION_CACHE_ALIAS at a Redis cache alias that never evicts.",
                    id="scaleshop.E003",
                )
            ]
    return []


@register(Tags.files)
def check_media_is_shared(app_configs=None, **kwargs) -> list[Error]:
    if not settings.CLUSTER_MODE:
        return []
    if isinstance(storages["default"], FileSystemStorage) and not settings.MEDIA_ROOT_IS_SHARED:
        return [
            Error(
                f"Uploads go to the local directory {settings.MEDIA_ROOT}; other clones "
                "cannot see them.",
                hint="Use shared storage (django-storages with S3), or mount MEDIA_ROOT on "
                "every clone and set DJANGO_MEDIA_ROOT_IS_SHARED=true.",
                id="scaleshop.E004",
            )
        ]
    return []
