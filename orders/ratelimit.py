"""A per-client limit on order submissions: fixed windows, counters in Redis.

The client is the address the request came from, unless that address is one of
``TRUSTED_PROXIES`` (the load balancer): then it is the nearest address in
``X-Forwarded-For`` that is not a trusted proxy. So a client cannot dodge the limit by
sending its own ``X-Forwarded-For``: only what the trusted proxy appended counts.
An IPv6 client is counted by its /64: one host (one home line, one VM) usually owns a
whole /64, and would otherwise get a fresh window from each of its 2**64 addresses.
The counters live in the cache Redis, used through ``config.redis_guard``: while it is
down the limit is not enforced (orders beat throttling), the outage is logged once, and
Redis is tried again only every ``CACHE_RETRY_SECONDS``, so an order never waits out a
connect timeout of a Redis known to be down.
"""

from __future__ import annotations

import time
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

from django.conf import settings
from django.http import HttpRequest
from redis import Redis

from config.redis_guard import cache_call, cache_key


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
    limit (``SPECIAL_ORDER_RATE_LIMIT`` per ``SPECIAL_ORDER_RATE_WINDOW_SECONDS``), else None."""
    window = settings.SPECIAL_ORDER_RATE_WINDOW_SECONDS
    now = int(time.time())
    started = now - now % window
    key = cache_key(f"ratelimit:{scope}:{client_key(client_address(request))}:{started}")

    def count(client: Redis) -> int:
        pipe = client.pipeline(transaction=True)  # one key: atomic on a Redis Cluster too
        pipe.incr(key)
        pipe.expire(key, window)
        counted, _ = pipe.execute()
        return counted

    counted = cache_call(count, fallback=None)
    if counted is None or counted <= settings.SPECIAL_ORDER_RATE_LIMIT:
        return None
    return started + window - now
