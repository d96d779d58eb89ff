"""Error reports to Sentry (or any server speaking its protocol), on when ``SENTRY_DSN`` is set.

Called from the settings, so that the Dramatiq integration is in place before
django_dramatiq builds the broker. Without ``SENTRY_DSN`` sentry_sdk is never imported.
"""

from __future__ import annotations


def sentry_init(*, dsn: str, release: str, environment: str) -> None:
    """Report unhandled errors of requests (Django) and jobs (Dramatiq) to ``dsn``."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.dramatiq import DramatiqIntegration

    sentry_sdk.init(
        dsn=dsn,
        release=release,
        environment=environment,
        integrations=[DjangoIntegration(), DramatiqIntegration()],
        send_default_pii=False,  # customers' emails and addresses stay out of reports
        traces_sample_rate=0.0,  # errors only: Prometheus has the timings
    )
