"""A per-client limit on order submissions: fixed windows, counters in Redis.

Why and how: ``docs/lessons/4.2-special-orders.md``."""

from __future__ import annotations

import time
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest

from core.redis_guard import CACHE_ERRORS, redis_client
from orders.errors import RateLimitUnavailableError

COUNTERS = "sessions"  # the cache alias of the Redis that never evicts


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


def client_key(address: str) -> str:
    """What one client's window is counted under: an IPv4 address, or an IPv6 address's
    /64 (an IPv4-mapped IPv6 address counts as its IPv4 address). Anything else (a proxy
    passing on junk) is counted as its own text, cut short."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(parsed, IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    if isinstance(parsed, IPv4Address):
        return str(parsed)
    return str(IPv6Network((int(parsed) >> 64 << 64, 64)))


def retry_after_if_limited(request: HttpRequest, *, scope: str) -> int | None:
    """Count this request against its client's window; the seconds to wait if over the
    limit (``SPECIAL_ORDER_RATE_LIMIT`` per ``SPECIAL_ORDER_RATE_WINDOW_SECONDS``), else None.
    Raises ``RateLimitUnavailableError`` when the counters cannot be reached."""
    window = settings.SPECIAL_ORDER_RATE_WINDOW_SECONDS
    now = int(time.time())
    started = now - now % window
    key = caches[COUNTERS].make_key(
        f"ratelimit:{scope}:{client_key(client_address(request))}:{started}"
    )
    try:
        pipe = redis_client(COUNTERS).pipeline(transaction=True)  # INCR and EXPIRE together
        pipe.incr(key)
        pipe.expire(key, window)
        counted, _ = pipe.execute()
    except CACHE_ERRORS as error:
        raise RateLimitUnavailableError(f"order limit counters unavailable: {error}") from error
    if counted <= settings.SPECIAL_ORDER_RATE_LIMIT:
        return None
    return started + window - now
