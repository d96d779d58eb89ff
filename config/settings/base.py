"""Settings shared by every environment; each value comes from the environment."""

import socket
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # django_dramatiq first: it sets the broker that the apps' actors bind to.
    "django_dramatiq",
    "django_distill",
    "config",
    "jobs",
    "caching",
]
# The demo shop, each app only when its package is there: the machinery above runs
# without it (`make test-machinery` copies the project without them).
DEMO_APPS = [
    app
    for app in ("catalog", "catalog.mongo", "cart", "orders", "prerender")
    if (BASE_DIR / app.replace(".", "/") / "__init__.py").is_file()
]
INSTALLED_APPS += DEMO_APPS

MIDDLEWARE = [
    # First: the request id in every log line, and X-Request-ID on every response.
    "core.request_id.RequestIdMiddleware",
    # Times and counts everything below, /healthz included.
    "ops.metrics.RequestMetricsMiddleware",
    # X-Clone on every response, also those the middleware below make themselves.
    "ops.middleware.CloneHeaderMiddleware",
    # Before host validation and the HTTPS redirect: a check sent to a clone's own address.
    "ops.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "replication.read_your_writes.ReadYourWritesMiddleware",
    "ops.error_pages.MethodNotAllowedPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Request size limits. nginx refuses bodies over 1 MiB (20 MiB under /admin/) with a 413
# page; Django refuses form data (files aside) over this with a 413 page
# (ops.error_pages), and keeps uploads over FILE_UPLOAD_MAX_MEMORY_SIZE on disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2621440

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

# Every wait on a database is bounded (why each one: docs/operating.md, "Database waits").
# Options given in a database URL (?connect_timeout=…&options=…) win over these.
DATABASE_CONNECT_TIMEOUT_SECONDS = env.int("DATABASE_CONNECT_TIMEOUT_SECONDS", default=3)
DATABASE_TCP_USER_TIMEOUT_SECONDS = env.int("DATABASE_TCP_USER_TIMEOUT_SECONDS", default=10)
REPLICA_STATEMENT_TIMEOUT_SECONDS = env.float("REPLICA_STATEMENT_TIMEOUT_SECONDS", default=5.0)
_DATABASE_TIMEOUTS = {
    "connect_timeout": DATABASE_CONNECT_TIMEOUT_SECONDS,
    "tcp_user_timeout": DATABASE_TCP_USER_TIMEOUT_SECONDS * 1000,
}


def _database(url: str, **options: object) -> dict:
    """The alias for ``url``: persistent connections, checked before reuse so a restarted
    server is survived, with bounded waits (above)."""
    config = env.db_url_config(url)
    return {
        **config,
        "CONN_MAX_AGE": env.int("DATABASE_CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {**_DATABASE_TIMEOUTS, **options, **config.get("OPTIONS", {})},
    }


DATABASES = {"default": _database(env("DATABASE_URL"))}
# Streaming replicas, optional: one URL or several separated by commas. Their test
# database is the primary's, arriving by replication (TEST.MIRROR).
DATABASE_REPLICAS = []
for _number, _url in enumerate(env.list("REPLICA_DATABASE_URL", default=[]), start=1):
    _alias = "replica" if _number == 1 else f"replica{_number}"
    DATABASES[_alias] = _database(
        _url, options=f"-c statement_timeout={int(REPLICA_STATEMENT_TIMEOUT_SECONDS * 1000)}"
    ) | {"TEST": {"MIRROR": "default"}}
    DATABASE_REPLICAS.append(_alias)
DATABASE_ROUTERS = ["replication.router.PrimaryReplicaRouter"]
# A replica with more than this much received WAL still to replay (bytes; 16 MiB is one
# WAL segment, well under a second of replay work), or that fails or is not streaming, is
# skipped for the cool-down. Bytes, not seconds: see replication/replica_health.py.
REPLICA_MAX_LAG_BYTES = env.int("REPLICA_MAX_LAG_BYTES", default=16 * 1024 * 1024)
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
# REDIS_CACHE_CLUSTER=true: REDIS_CACHE_URL names a node of a Redis Cluster (the client
# finds the others). Sessions stay on REDIS_URL, one Redis.
if env.bool("REDIS_CACHE_CLUSTER", default=False):
    CACHES["default"]["OPTIONS"]["CONNECTION_FACTORY"] = (
        "core.redis_cluster.ClusterConnectionFactory"
    )
# After a cache failure, pages come from the database for this long before Redis is retried.
CACHE_RETRY_SECONDS = env.float("CACHE_RETRY_SECONDS", default=5.0)
# Cached product pages live this long unless a write drops them first.
PRODUCT_PAGE_CACHE_SECONDS = env.int("PRODUCT_PAGE_CACHE_SECONDS", default=24 * 3600)
# A missing entry (product page or listing) is rebuilt by one process while the others
# wait up to this long for it.
CACHE_REBUILD_WAIT_SECONDS = env.float("CACHE_REBUILD_WAIT_SECONDS", default=2.0)
# Cached queries (category listings) expire after this, if no write moved them first.
QUERY_CACHE_SECONDS = env.int("QUERY_CACHE_SECONDS", default=3600)
# An unknown product slug answers 404 from the cache for at most this long (a write to the
# products table ends it at once).
NOT_FOUND_CACHE_SECONDS = env.int("NOT_FOUND_CACHE_SECONDS", default=60)
# Products per page of a category listing: its HTML and its cost stay the same however
# large the catalog grows.
CATEGORY_PAGE_SIZE = env.int("CATEGORY_PAGE_SIZE", default=24)
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
# Hashed names (shop.3f2a9c.css), and collectstatic never deletes the old ones: a page
# prerendered before a release keeps pointing at the stylesheet it was rendered with.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / ".run" / "media")

# Release identity: every clone of one deploy reports the same value in /healthz. A
# release built by the deploy tool names itself in its RELEASE file (deploy/releases.py).
_RELEASE_FILE = BASE_DIR / "RELEASE"
RELEASE = (
    _RELEASE_FILE.read_text().strip()
    if _RELEASE_FILE.is_file()
    else env("SHOP_RELEASE", default="dev")
)
CLONE_NAME = env("SHOP_CLONE", default=socket.gethostname())
# The clones' own addresses (http://host:port, comma-separated), for the admin's Scaling
# page, which asks each one's /healthz within this many seconds.
SHOP_CLONE_URLS = env.list("SHOP_CLONE_URLS", default=[])
SCALING_HEALTHZ_TIMEOUT_SECONDS = env.float("SCALING_HEALTHZ_TIMEOUT_SECONDS", default=3.0)
# Cluster mode: this process is one of several identical clones, so config.checks
# refuses settings that keep state on the local machine.
CLUSTER_MODE = env.bool("SHOP_CLUSTER_MODE", default=False)
# With FileSystemStorage, the operator states that MEDIA_ROOT is shared by all clones
# (one host, or a network mount); otherwise use object storage such as django-storages/S3.
MEDIA_ROOT_IS_SHARED = env.bool("DJANGO_MEDIA_ROOT_IS_SHARED", default=False)

# JSON lines, each with the request id of the request or job it was written for
# (core/request_id.py). DJANGO_LOG_FORMAT=plain for a terminal.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.request_id.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env.str("DJANGO_LOG_FORMAT", default="json"),
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}

# Lesson 2b: where catalog pages are read from. "sql": PostgreSQL through the selectors;
# "mongo": one document per product, projected from PostgreSQL after each commit
# (catalog/mongo). Mongo's own variables are read only when it is on.
CATALOG_READ_MODEL = env.str("CATALOG_READ_MODEL", default="sql")
if CATALOG_READ_MODEL not in ("sql", "mongo"):
    raise ImproperlyConfigured(f"CATALOG_READ_MODEL={CATALOG_READ_MODEL!r}: use sql or mongo")
if CATALOG_READ_MODEL == "mongo":
    # mongodb://user:password@host:port/database (a replica set in production).
    MONGO_URL = env("MONGO_URL")
# After a Mongo failure, pages come from PostgreSQL for this long before Mongo is retried.
MONGO_RETRY_SECONDS = env.float("MONGO_RETRY_SECONDS", default=5.0)
MONGO_TIMEOUT_SECONDS = env.float("MONGO_TIMEOUT_SECONDS", default=1.0)

# ----------------------------------------------------------------------------------------
# Background jobs (lesson 4.2): Dramatiq broker, outbox relay, special orders, email and
# the order form's rate limit. django-dramatiq builds the broker from DRAMATIQ_BROKER when
# the apps load; jobs/ and orders/ read the rest when called.
# ----------------------------------------------------------------------------------------
# redis://... (the default; the local cluster runs its own) or amqp://... for RabbitMQ.
DRAMATIQ_BROKER_URL = env("DRAMATIQ_BROKER_URL")
# Redis broker: a worker process that has sent no command for this long is dead, and the
# messages it had taken go back to their queue at the next broker command (maintenance
# runs on every command: cheap on a Redis of its own). So a SIGKILLed worker's job is
# redelivered within about this long; it must exceed any pause of a live worker.
DRAMATIQ_REDIS_HEARTBEAT_SECONDS = env.int("DRAMATIQ_REDIS_HEARTBEAT_SECONDS", default=10)
# Bounded waits (unless the URL sets its own query), so a request's send after commit
# fails fast when the broker is down; the outbox relay sends the job later.
if DRAMATIQ_BROKER_URL.startswith(("amqp://", "amqps://")):
    # Publisher confirms: a job counts as sent (outbox) only once RabbitMQ has it.
    # RabbitMQ requeues a dead consumer's messages as soon as its connection drops.
    _broker = "dramatiq.brokers.rabbitmq.RabbitmqBroker"
    _timeouts = "connection_attempts=1&socket_timeout=3"
    _broker_options: dict[str, object] = {"confirm_delivery": True}
else:
    _broker = "dramatiq.brokers.redis.RedisBroker"
    _timeouts = "socket_connect_timeout=2&socket_timeout=5"
    _broker_options = {
        "heartbeat_timeout": DRAMATIQ_REDIS_HEARTBEAT_SECONDS * 1000,
        "maintenance_chance": 1_000_000,  # out of a million: every command
    }
_broker_options["url"] = (
    DRAMATIQ_BROKER_URL if "?" in DRAMATIQ_BROKER_URL else f"{DRAMATIQ_BROKER_URL}?{_timeouts}"
)
# A worker's metrics: Dramatiq's Prometheus middleware serves them on this port, from
# the directory its processes share. Set on worker programs only (it reads its own
# variables: dramatiq_prom_host, dramatiq_prom_port, dramatiq_prom_db).
WORKER_METRICS_PORT = env.int("dramatiq_prom_port", default=0)
DRAMATIQ_BROKER = {
    "BROKER": _broker,
    "OPTIONS": _broker_options,
    "MIDDLEWARE": [
        *(["dramatiq.middleware.prometheus.Prometheus"] if WORKER_METRICS_PORT else []),
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Retries",
        "dramatiq.middleware.CurrentMessage",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
        "jobs.middleware.ReadAfterSenderCommit",
        "jobs.middleware.CarryRequestId",
    ],
}
DRAMATIQ_AUTODISCOVER_MODULES = ["actors"]
DRAMATIQ_IGNORED_MODULES = ["django_dramatiq.tasks"]  # its task log is not used
# The outbox relay looks for unsent jobs this often, and waits at most this long between
# tries while the broker is down.
OUTBOX_RELAY_INTERVAL_SECONDS = env.float("OUTBOX_RELAY_INTERVAL_SECONDS", default=1.0)
OUTBOX_RELAY_MAX_BACKOFF_SECONDS = env.float("OUTBOX_RELAY_MAX_BACKOFF_SECONDS", default=8.0)
# Oven time of one special order: the worker really renders the picture, and waits this.
SPECIAL_ORDER_BAKE_SECONDS = env.float("SPECIAL_ORDER_BAKE_SECONDS", default=1.5)
# The font the cake's writing is drawn in: wide coverage (Debian's fonts-dejavu-core,
# installed by `make bootstrap`); writing it cannot draw is refused by the order form.
CAKE_FONT_PATH = env.path(
    "CAKE_FONT_PATH", default="/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
)
# The order form: at most this many POSTs per client address per window (HTTP 429 past
# it). The client address is taken from X-Forwarded-For only when the request comes
# from one of these proxies (the load balancer).
SPECIAL_ORDER_RATE_LIMIT = env.int("SPECIAL_ORDER_RATE_LIMIT", default=10)
SPECIAL_ORDER_RATE_WINDOW_SECONDS = env.int("SPECIAL_ORDER_RATE_WINDOW_SECONDS", default=600)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"])
# And at most this many orders per email address in any 24 hours (counted in PostgreSQL).
SPECIAL_ORDER_EMAIL_DAILY_LIMIT = env.int("SPECIAL_ORDER_EMAIL_DAILY_LIMIT", default=5)
# Email: SMTP unless set otherwise; the local cluster writes files to RUN_DIR/mail.
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = env("DJANGO_EMAIL_FILE_PATH", default=str(BASE_DIR / ".run" / "mail"))
EMAIL_HOST = env("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="bakery@localhost")
# Links in emails start with this (the load balancer's public address).
SHOP_PUBLIC_URL = env(
    "SHOP_PUBLIC_URL", default=env("SHOP_LB_URL", default="http://localhost:8000")
)
# What the apps add to the machinery; the demo shop's apps add theirs below.
# Figures about the cluster that /metrics reads at each scrape: functions returning
# Prometheus metric families (ops/metrics.py).
METRICS_COLLECTORS = ["jobs.metrics.job_metrics"]
# Extra sections of /healthz: name -> function returning a JSON-ready dict. They may read
# the primary database; while it is unavailable they are reported as skipped.
HEALTHZ_SECTIONS = {"jobs": "jobs.selectors.job_queue_figures"}
# Periodic sweeps that the outbox relay runs between its batches (jobs/sweeps.py):
# name -> (function returning how many things it fixed, seconds between runs).
JOB_SWEEPS: dict[str, tuple[str, float]] = {}
if "orders" in DEMO_APPS:
    METRICS_COLLECTORS.append("orders.metrics.order_metrics")
    HEALTHZ_SECTIONS["orders"] = "orders.selectors.special_order_queue_figures"
    # A job can be lost for good (dead-lettered while the database was down): send the
    # job of such an order again.
    JOB_SWEEPS["special orders stuck in the oven"] = (
        "orders.services.special_orders_resend_stuck",
        60,
    )
if "prerender" in DEMO_APPS:
    HEALTHZ_SECTIONS["prerender"] = "prerender.selectors.prerender_figures"
    # Pages whose re-render job was lost are rendered again; the nightly build is started
    # by whichever relay first sees its time come (prerender/nightly.py).
    JOB_SWEEPS["prerendered pages still out of service"] = (
        "prerender.services.pages_pending_resend",
        30,
    )
    JOB_SWEEPS["nightly prerender build"] = ("prerender.nightly.nightly_build_if_due", 60)
if CATALOG_READ_MODEL == "mongo" and "catalog.mongo" in DEMO_APPS:
    HEALTHZ_SECTIONS["mongo"] = "catalog.mongo.selectors.mongo_health"
# ----------------------------------------------------------------------------------------
# Prerendered pages (lesson 4.1): where builds go (nginx serves PRERENDER_ROOT/current),
# how many finished builds are kept, the nightly build's time (UTC, HH:MM) and how many
# processes a build renders with (0: one per CPU).
# ----------------------------------------------------------------------------------------
PRERENDER_ROOT = env.path("PRERENDER_ROOT", default=BASE_DIR / ".run" / "prerendered")
PRERENDER_KEEP_BUILDS = env.int("PRERENDER_KEEP_BUILDS", default=3)
PRERENDER_NIGHTLY_AT = env("PRERENDER_NIGHTLY_AT", default="03:00")
PRERENDER_PROCESSES = env.int("PRERENDER_PROCESSES", default=0)
# ----------------------------------------------------------------------------------------
# Error reports: SENTRY_DSN turns sentry-sdk on, with its Django and Dramatiq integrations
# (before django_dramatiq builds the broker, which the Dramatiq integration hooks into).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from ops.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        release=RELEASE,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
    )
