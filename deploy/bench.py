"""`python -m deploy.bench` (`make bench`): the serving tiers of the running cluster,
measured in one run and reported as ratios.

Tiers, all through nginx on the load balancer's port:
- ``nginx static file``: a file nginx serves without touching Django;
- ``product page, prerendered``: the product pages as nginx serves them from the
  published build (lesson 4.1; needs one, which `make up` builds);
- ``product page, cached``: a clone answers from the cached object in Redis (no SQL);
- ``product page, uncached``: a clone assembles the page from PostgreSQL (cache
  emptied first, every product requested once);
- ``category page, cached query``: the contrast pattern, a cached query result;
- ``product page, uncached, from Mongo``: with the Mongo read model on (`make up
  MONGO=1`), a clone reads the page as one document (cache emptied first). The SQL tier
  is then measured with every document marked "projection pending", which sends cache
  refills to PostgreSQL; the marks are cleared after. The server is SecantusDB: its
  figures are not MongoDB's.

The dynamic tiers carry a query string (``?dynamic``): nginx never answers one from a
prerendered file, so they reach the clones.

The load client is this Python process (threads, keep-alive connections), sharing the
machine's cores with the servers; absolute figures are therefore low, and the nginx
tiers are understated most (it cannot send more than a few thousand requests a second).
Compare the ratios, which are measured in the same run. When ``wrk`` is installed
(`make bench` installs it), the tiers that can be measured on one URL are measured
again with it, a client fast enough for nginx. Writes ``bench-results/bench.json``
and ``bench-results/bench.svg``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pymongo import MongoClient

from .credentials import load_credentials
from .errors import DeployError, NotRunningError
from .paths import Layout
from .topology import HOST, Topology, load_topology

CONCURRENCY = 8
DYNAMIC = "?dynamic"  # a query string: never a prerendered file, always a clone


@dataclass(frozen=True)
class TierResult:
    tier: str
    requests: int
    seconds: float
    failures: int
    p50_ms: float
    p95_ms: float

    @property
    def per_second(self) -> float:
        """Successful requests per second: a fast error page is no throughput."""
        return (self.requests - self.failures) / self.seconds if self.seconds else 0.0


def _connection(lb_url: str, timeout: float = 30) -> http.client.HTTPConnection:
    address = urlsplit(lb_url)
    return http.client.HTTPConnection(address.hostname or HOST, address.port, timeout=timeout)


def _fetch_all(lb_url: str, paths: list[str], concurrency: int = CONCURRENCY) -> TierResult:
    """GET every path once, ``concurrency`` at a time over keep-alive connections."""
    queue = list(reversed(paths))
    lock = threading.Lock()
    latencies: list[float] = []
    failures = [0]

    def worker() -> None:
        connection = _connection(lb_url)
        while True:
            with lock:
                if not queue:
                    break
                path = queue.pop()
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = _connection(lb_url)
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                failures[0] += not ok
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    ordered = sorted(latencies)
    return TierResult(
        tier="",
        requests=len(ordered),
        seconds=seconds,
        failures=failures[0],
        p50_ms=1000 * statistics.median(ordered),
        p95_ms=1000 * ordered[int(0.95 * (len(ordered) - 1))],
    )


def _get(lb_url: str, path: str) -> str:
    """The body of ``GET path``; NotRunningError when the cluster does not answer 200."""
    connection = _connection(lb_url, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode()
    except (OSError, http.client.HTTPException) as exc:
        raise NotRunningError(
            f"the load balancer at {lb_url} does not answer ({exc}); start the cluster "
            "with `make up`"
        ) from exc
    finally:
        connection.close()
    if response.status != 200:
        raise NotRunningError(f"GET {lb_url}{path} answered HTTP {response.status}")
    return body


def _flush_cache(port: int, password: str) -> None:
    """Empty the cache Redis (RESP ``AUTH``, ``FLUSHDB``): every page is a miss afterwards."""
    secret = password.encode()
    try:
        with socket.create_connection((HOST, port), timeout=5) as conn:
            conn.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(secret), secret))
            conn.recv(64)  # +OK, or an error that FLUSHDB's answer repeats
            conn.sendall(b"*1\r\n$7\r\nFLUSHDB\r\n")
            answer = conn.recv(64)
    except OSError as exc:
        raise NotRunningError(
            f"the cache Redis at {HOST}:{port} does not answer ({exc}); check `make status`"
        ) from exc
    if not answer.startswith(b"+OK"):
        raise NotRunningError(f"the cache Redis at {HOST}:{port} refused FLUSHDB: {answer!r}")


def _catalog_paths(lb_url: str) -> tuple[list[str], list[str]]:
    home = _get(lb_url, "/")
    categories = sorted(set(re.findall(r'href="(/categories/[\w-]+/)"', home)))
    products: list[str] = []
    for category in categories:
        products += re.findall(r'href="(/products/[\w-]+/)"', _get(lb_url, category))
    return categories, sorted(set(products))


def run(*, rounds: int, out_dir: Path) -> list[TierResult]:
    layout = Layout.discover()
    topology = load_topology(layout)
    lb_url = topology.lb_url
    categories, products = _catalog_paths(lb_url)
    if len(products) < 50:
        raise SystemExit(
            f"bench: found {len(products)} products, needs 50 or more: "
            "run `.venv/bin/python manage.py seed_catalog --products 200`"
        )
    per_round: dict[str, list[TierResult]] = {}
    cache_password = load_credentials(layout).redis_cache
    dynamic = [f"{path}{DYNAMIC}" for path in products]

    def measure(tier: str, paths: list[str]) -> None:
        result = _fetch_all(lb_url, paths)
        per_round.setdefault(tier, []).append(result)

    for _ in range(rounds):
        _flush_cache(topology.ports.redis_cache, cache_password)
        with _mongo_documents_pending(layout, topology):  # SQL even with Mongo on
            measure("product page, uncached", dynamic)  # every request a miss
        if topology.mongo:
            _flush_cache(topology.ports.redis_cache, cache_password)
            measure("product page, uncached, from Mongo", dynamic)
        measure("product page, cached", dynamic * 3)  # every request a hit
        measure("category page, cached query", [f"{c}{DYNAMIC}" for c in categories] * 40)
        measure("product page, prerendered", products * 10)
        measure("nginx static file", ["/static/shop.css"] * (len(products) * 10))
    results = [
        TierResult(**{**asdict(_median(tier_results)), "tier": tier})
        for tier, tier_results in per_round.items()
    ]
    _report(results, out_dir)
    _report_wrk(wrk_tiers(lb_url, products[0]))
    return results


@contextmanager
def _mongo_documents_pending(layout: Layout, topology: Topology) -> Iterator[None]:
    """With the Mongo read model on: every document looks not yet projected for the
    block, so cache refills (which must be fresh) read PostgreSQL instead."""
    if not topology.mongo:
        yield
        return
    client: MongoClient = MongoClient(
        topology.mongo_url(load_credentials(layout).mongo), serverSelectionTimeoutMS=5000
    )
    products = client.get_default_database()["products"]
    try:
        products.update_many({}, {"$set": {"written": 2**62}})
        yield
    finally:
        products.update_many({}, {"$set": {"written": 0}})
        client.close()


WRK_SECONDS = 5


def _wrk(url: str) -> float | None:
    """Requests per second of ``wrk`` (1 thread, 16 connections) on one URL, or None."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    done = subprocess.run(  # noqa: S603  (wrk, on our own load balancer's URL)
        [wrk, "-t1", "-c16", f"-d{WRK_SECONDS}s", url],
        capture_output=True,
        text=True,
        timeout=WRK_SECONDS + 30,
        check=False,
    )
    match = re.search(r"Requests/sec:\s*([\d.]+)", done.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    return float(match.group(1)) if match and not errors else None


def wrk_tiers(lb_url: str, product: str) -> dict[str, float | None]:
    """The one-URL tiers under ``wrk``: what nginx can do, next to the dynamic pages."""
    return {
        "nginx static file": _wrk(f"{lb_url}/static/shop.css"),
        "product page, prerendered": _wrk(f"{lb_url}{product}"),
        "product page, cached": _wrk(f"{lb_url}{product}{DYNAMIC}"),
        "/cart.json (session only)": _wrk(f"{lb_url}/cart.json"),
    }


def _report_wrk(figures: dict[str, float | None]) -> None:
    if not any(figures.values()):
        print("\n(wrk not found: `make bench` installs it, for the nginx tiers' real speed)")
        return
    cached = figures.get("product page, cached") or 1.0
    print(f"\nwrk, 1 thread, 16 connections, {WRK_SECONDS} s per tier, one URL each:")
    for tier, per_second in figures.items():
        shown = "failed" if per_second is None else f"{per_second:9.0f} {per_second / cached:9.1f}×"
        print(f"{tier:32} {shown} (× cached page)")


def _median(results: list[TierResult]) -> TierResult:
    return sorted(results, key=lambda r: r.per_second)[len(results) // 2]


def _report(results: list[TierResult], out_dir: Path) -> None:
    base = next(r for r in results if r.tier == "product page, uncached").per_second or 1.0
    print(f"{'tier':36} {'req/s':>9} {'× uncached':>11} {'p50 ms':>8} {'p95 ms':>8} {'failed':>7}")
    for r in sorted(results, key=lambda r: r.per_second):
        print(
            f"{r.tier:36} {r.per_second:9.0f} {r.per_second / base:10.1f}× "
            f"{r.p50_ms:8.2f} {r.p95_ms:8.2f} {r.failures:7d}"
        )
    out_dir.mkdir(exist_ok=True)
    rows = [
        {**asdict(r), "per_second": r.per_second, "ratio": r.per_second / base} for r in results
    ]
    (out_dir / "bench.json").write_text(json.dumps(rows, indent=2) + "\n")
    (out_dir / "bench.svg").write_text(_svg(results, base))
    print(f"\nwrote {out_dir / 'bench.json'} and {out_dir / 'bench.svg'}")


def _svg(results: list[TierResult], base: float) -> str:
    ordered = sorted(results, key=lambda r: r.per_second)
    top = max(r.per_second for r in ordered)
    bars = []
    for row, r in enumerate(ordered):
        width = 420 * r.per_second / top
        y = 30 + row * 34
        bars.append(
            f'<text x="10" y="{y + 16}" font-size="13">{r.tier}</text>'
            f'<rect x="230" y="{y}" width="{width:.0f}" height="22" fill="#b5522b"/>'
            f'<text x="{236 + width:.0f}" y="{y + 16}" font-size="12">'
            f"{r.per_second:.0f}/s ({r.per_second / base:.1f}×)</text>"
        )
    height = 40 + 34 * len(ordered)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{height}" '
        'font-family="sans-serif"><text x="10" y="18" font-size="14" font-weight="bold">'
        "Requests per second through nginx (one run; ratio to the uncached page)</text>"
        + "".join(bars)
        + "</svg>\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="median of this many rounds")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args(argv)
    try:
        results = run(rounds=args.rounds, out_dir=args.out)
    except DeployError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    failed = sum(r.failures for r in results)
    if failed:
        print(f"bench: {failed} requests failed; they are not counted in req/s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
