"""Settings shared by every environment; each value comes from the environment.

The local cluster (``make up``) writes the addresses of what it started to
``.run/cluster.env``; real environment variables always win over that file.
"""

import socket
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".run" / "cluster.env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "config",
    "catalog",
    "cart",
    "orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.read_your_writes.ReadYourWritesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.CloneHeaderMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Persistent connections, checked before reuse so a restarted server is survived.
DATABASES = {
    "default": {
        **env.db("DATABASE_URL"),
        "CONN_MAX_AGE": env.int("DATABASE_CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
    },
}
# Streaming replicas, optional: one URL or several separated by commas. Their test
# database is the primary's, arriving by replication (TEST.MIRROR).
DATABASE_REPLICAS = []
for _number, _url in enumerate(env.list("REPLICA_DATABASE_URL", default=[]), start=1):
    _alias = "replica" if _number == 1 else f"replica{_number}"
    DATABASES[_alias] = {
        **env.db_url_config(_url),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_REPLICAS.append(_alias)
DATABASE_ROUTERS = ["config.db_router.PrimaryReplicaRouter"]
# A replica that lags more than this, or fails, is skipped for the cool-down.
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=10.0)
REPLICA_COOLDOWN_SECONDS = env.float("REPLICA_COOLDOWN_SECONDS", default=5.0)
# How long a browser's own write pins its reads to replicas that have replayed it.
READ_YOUR_WRITES_SECONDS = env.int("READ_YOUR_WRITES_SECONDS", default=300)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Two Redis roles. "sessions" must never evict (a shopper's cart is data, not cache);
# "default" is a cache that may evict under memory pressure.
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env("REDIS_CACHE_URL"),
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="shop"),
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    },
    "sessions": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env("REDIS_URL"),
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="shop"),
        "TIMEOUT": None,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    },
}
# After a cache failure, pages come from the database for this long before Redis is retried.
CACHE_RETRY_SECONDS = env.float("CACHE_RETRY_SECONDS", default=5.0)
# Cached product pages live this long unless a write drops them first; a missing hot
# page is rebuilt by one process while the others wait up to this long for it.
PRODUCT_PAGE_CACHE_SECONDS = env.int("PRODUCT_PAGE_CACHE_SECONDS", default=24 * 3600)
PRODUCT_PAGE_REBUILD_WAIT_SECONDS = env.float("PRODUCT_PAGE_REBUILD_WAIT_SECONDS", default=2.0)
# Cached queries (category listings) expire after this, if no write moved them first.
QUERY_CACHE_SECONDS = env.int("QUERY_CACHE_SECONDS", default=3600)
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_CACHE_ALIAS = "sessions"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / ".run" / "static")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / ".run" / "media")

# Release identity: every clone of one deploy reports the same value in /healthz.
RELEASE = env("SHOP_RELEASE", default="dev")
CLONE_NAME = env("SHOP_CLONE", default=socket.gethostname())
# Cluster mode: this process is one of several identical clones, so config.checks
# refuses settings that keep state on the local machine.
CLUSTER_MODE = env.bool("SHOP_CLUSTER_MODE", default=False)
# With FileSystemStorage, the operator states that MEDIA_ROOT is shared by all clones
# (one host, or a network mount); otherwise use object storage such as django-storages/S3.
MEDIA_ROOT_IS_SHARED = env.bool("DJANGO_MEDIA_ROOT_IS_SHARED", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}
