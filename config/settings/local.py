"""Development on the local cluster: debug on, a throw-away key, console email.

The local cluster (``make up``) writes the addresses of what it started to
``.run/cluster.env``; it is read before the shared settings, and real environment
variables always win over it. Production settings never read it.
"""

from pathlib import Path

import environ

environ.Env.read_env(Path(__file__).resolve().parents[2] / ".run" / "cluster.env")

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-development-key-not-for-production")
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
