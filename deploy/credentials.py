"""The local cluster's secrets: generated at the first `up`, kept in ``RUN_DIR`` (mode 600),
never on a command line (``ps`` shows those to every user).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, fields

from .errors import ConfigurationError
from .files import write_if_changed
from .paths import Layout

# Every Redis server of the cluster, by program name.
REDIS_SERVERS = ("redis", "redis-cache", "redis-broker")


def new_password() -> str:
    """URL-safe, so it goes into a connection URL without quoting."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Credentials:
    """Passwords of the PostgreSQL roles and Redis servers, and Django's secret key."""

    postgres: str  # the superuser, for maintenance (`status-json`'s admin_url)
    shop: str  # the application's role
    replicator: str  # the replica's streaming-replication role
    redis: str
    redis_cache: str
    redis_broker: str
    secret_key: str
    mongo: str  # the app's user on the local Mongo server (`up --mongo`)

    def redis_password(self, server: str) -> str:
        """The password of the Redis server named ``server`` (a REDIS_SERVERS entry)."""
        return str(getattr(self, server.replace("-", "_")))


def ensure_credentials(layout: Layout) -> Credentials:
    """The cluster's credentials; any that are missing (a fresh RUN_DIR, or one made by an
    older version of this tool) are generated now and saved."""
    try:
        saved = json.loads(layout.credentials_file.read_text())
    except FileNotFoundError:
        saved = {}
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read {layout.credentials_file}: {exc}") from exc
    credentials = Credentials(
        **{f.name: str(saved.get(f.name) or _generate(f.name)) for f in fields(Credentials)}
    )
    write_if_changed(
        layout.credentials_file, json.dumps(asdict(credentials), indent=2) + "\n", 0o600
    )
    return credentials


def load_credentials(layout: Layout) -> Credentials:
    """The credentials saved by `up`; a clear error when there are none yet."""
    try:
        saved = json.loads(layout.credentials_file.read_text())
        return Credentials(**{f.name: str(saved[f.name]) for f in fields(Credentials)})
    except FileNotFoundError:
        raise ConfigurationError(
            f"no {layout.credentials_file}: the cluster was never started here "
            "(`make up` creates it)"
        ) from None
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigurationError(
            f"cannot read {layout.credentials_file} ({exc}); `make up` repairs it"
        ) from exc


def _generate(name: str) -> str:
    return secrets.token_urlsafe(50) if name == "secret_key" else new_password()
