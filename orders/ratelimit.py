"""A per-client limit on order submissions: fixed windows, counters in Redis.

The client is the address the request came from, unless that address is one of
``TRUSTED_PROXIES`` (the load balancer): then it is the nearest address in
``X-Forwarded-For`` that is not a trusted proxy. So a client cannot dodge the limit by
sending its own ``X-Forwarded-For``: only what the trusted proxy appended counts.
If the counter store is down the limit is not enforced (logged): orders beat throttling.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    """The client's IP address, trusting ``X-Forwarded-For`` only from trusted proxies."""
    trusted = set(settings.TRUSTED_PROXIES)
    address = request.META.get("REMOTE_ADDR", "")
    if address not in trusted:
        return address
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        address = hop
        if hop not in trusted:
            break
    return address


def retry_after_if_limited(request: HttpRequest, *, scope: str) -> int | None:
    """Count this request against its client's window; the seconds to wait if over the
    limit (``SPECIAL_ORDER_RATE_LIMIT`` per ``SPECIAL_ORDER_RATE_WINDOW_SECONDS``), else None."""
    window = settings.SPECIAL_ORDER_RATE_WINDOW_SECONDS
    now = int(time.time())
    started = now - now % window
    cache = caches["default"]
    key = cache.make_key(f"ratelimit:{scope}:{client_address(request)}:{started}")
    try:
        client = cache.client.get_client(write=True)
        pipe = client.pipeline()
        pipe.incr(key)
        pipe.expire(key, window)
        count, _ = pipe.execute()
    except (RedisError, ConnectionInterrupted) as error:
        logger.warning("rate limit not enforced, counter store unavailable: %s", error)
        return None
    if count <= settings.SPECIAL_ORDER_RATE_LIMIT:
        return None
    return started + window - now
