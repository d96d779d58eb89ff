"""`python -m deploy.bench` (`make bench`): every serving tier of the running cluster, through
nginx, against its physical limit (tier 1, a static file), and the measured targets.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pymongo import MongoClient

from .bench_app import (
    Figure,
    full_build,
    mongo_read_model_on,
    published_pages,
    redis_flush,
    rerender_seconds,
    special_orders,
)
from .bench_report import Row, report
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
    p99_ms: float
    read_models: dict[str, int] = field(default_factory=dict)  # X-Read-Model: count

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
    read_models: Counter[str] = Counter()

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
                read_model = response.getheader("X-Read-Model", "")
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = _connection(lb_url)
                ok, read_model = False, ""
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                failures[0] += not ok
                read_models[read_model] += 1
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
        p99_ms=1000 * ordered[int(0.99 * (len(ordered) - 1))],
        read_models=dict(read_models),
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


def _catalog_paths(lb_url: str) -> tuple[list[str], list[str]]:
    home = _get(lb_url, "/")
    categories = sorted(set(re.findall(r'href="(/categories/[\w-]+/)"', home)))
    products: list[str] = []
    for category in categories:
        products += re.findall(r'href="(/products/[\w-]+/)"', _get(lb_url, category))
    return categories, sorted(set(products))


def _python_row(number: str, tier: str, r: TierResult) -> Row:
    figures = (r.per_second, r.p50_ms, r.p99_ms, r.failures, r.requests)
    return Row(number, tier, "python", *figures)


STARTED = time.monotonic()


def _progress(number: str, tier: str, how: str) -> None:
    what = "target" if number == "target" else f"tier {number}"
    elapsed = int(time.monotonic() - STARTED)
    print(f"bench: [{elapsed // 60}:{elapsed % 60:02}] {what}, {tier} ({how}) ...", flush=True)


@dataclass(frozen=True)
class Sizes:
    """How much each measurement does: `make bench`'s defaults, or ``--quick``'s."""

    rounds: int = 3
    orders_burst: int = 200
    orders_paced: int = 50
    build_products: int = 10_000


QUICK = Sizes(rounds=1, orders_burst=20, orders_paced=10, build_products=300)


@dataclass
class _Bench:
    """One `make bench` run: the cluster it measures and the rows and figures so far."""

    sizes: Sizes
    layout: Layout = field(default_factory=Layout.discover)
    wrk: list[str] | None = field(default_factory=lambda: wrk_command())
    rows: list[Row] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)

    @property
    def lb_url(self) -> str:
        return load_topology(self.layout).lb_url

    def one_url(self, number: str, tier: str, path: str) -> None:
        if self.wrk is not None:
            _progress(number, tier, f"wrk, {WRK_WARMUP} s warm-up, {WRK_SECONDS} s measured")
            self.rows.append(_wrk_row(self.wrk, number, tier, f"{self.lb_url}{path}"))
        else:
            _progress(number, tier, "Python client")
            self.rows.append(_python_row(number, tier, _fetch_all(self.lb_url, [path] * 2000)))

    def uncached_rounds(self, paths: list[str], read_model: str) -> TierResult:
        """Every product once per round after emptying the cache; the median round.
        Every page must come from ``read_model`` (``X-Read-Model``), or the tier is wrong."""
        topology = load_topology(self.layout)
        results = []
        for _ in range(self.sizes.rounds):
            redis_flush(topology.ports.redis_cache, load_credentials(self.layout).redis_cache)
            results.append(_fetch_all(self.lb_url, paths))
        result = _median(results)
        if result.read_models.get(read_model, 0) != result.requests:
            raise DeployError(
                f"expected every page from {read_model}, got X-Read-Model {result.read_models}"
            )
        return result

    def page_tiers(self, categories: list[str], products: list[str]) -> None:
        product = products[0]
        path = _page_sized_static_file(self.layout, self.lb_url, product)
        self.one_url("1", "nginx static file", path)
        published_pages(self.layout, self.lb_url, product)
        self.one_url("2", "product page, prerendered", product)
        self.one_url("3", "/cart.json (session only)", "/cart.json")
        self.one_url("4", "product page, cached", f"{product}{DYNAMIC}")
        self.one_url("4b", "category page, cached query", f"{categories[0]}{DYNAMIC}")
        # Every request a cache miss: one URL would be cached after its first request, so
        # the Python client requests every product once after emptying the cache. The
        # clones are the limit here (about a hundred pages a second), not the client.
        dynamic = [f"{path}{DYNAMIC}" for path in products]
        rounds = f"Python client, {self.sizes.rounds} rounds"
        _progress("5", "product page, uncached", rounds)
        with _mongo_documents_pending(self.layout, load_topology(self.layout)):
            # SQL even with Mongo on
            result = self.uncached_rounds(dynamic, "sql")
        self.rows.append(_python_row("5", "product page, uncached", result))
        _progress("6", "product page, uncached, from Mongo", rounds)
        if not load_topology(self.layout).mongo:
            print(
                "bench: tier 6: the cluster runs without the Mongo read model: switching it "
                "on for this tier (`deploy up --mongo`), and off again after",
                flush=True,
            )
        with mongo_read_model_on(self.layout):
            result = self.uncached_rounds(dynamic, "mongo")
        tier = "product page, uncached, from Mongo (SecantusDB)"
        self.rows.append(_python_row("6", tier, result))

    def targets(self, product: str) -> None:
        """Tier 7 (special orders) and the measured targets besides the tiers."""
        _progress("7", "special orders, trivial bake", "bench_special_orders, then a SIGKILL drill")
        sizes = self.sizes
        orders = special_orders(
            self.layout, burst=sizes.orders_burst, paced=sizes.orders_paced, kill_drill=True
        )
        self.rows.append(_orders_row(orders))
        rerender = "re-render visible through nginx after a commit"
        _progress("target", "re-render seen through nginx after a commit", "a product renamed")
        rerender_s = rerender_seconds(self.layout, self.lb_url, product)
        build = f"full prerender of {sizes.build_products:,} products"
        _progress("target", build, "seeded into a database of its own")
        seconds, pages = full_build(self.layout, products=sizes.build_products)
        self.figures += [
            Figure("special order placed → READY, p50", orders["p50_ms"], "ms", 100),
            Figure("special order placed → READY, p99", orders["p99_ms"], "ms", 500),
            Figure(
                "SIGKILLed worker's order READY after the kill", orders["kill_to_ready_s"], "s", 30
            ),
            Figure(rerender, rerender_s, "s", 2),
            Figure(f"{build} ({pages:,} pages)", seconds, "s", 120),
        ]


def run(*, sizes: Sizes, out_dir: Path, rollout: bool = True) -> tuple[list[Row], list[Figure]]:
    bench = _Bench(sizes)
    categories, products = _catalog_paths(bench.lb_url)
    if len(products) < 50:
        raise SystemExit(
            f"bench: found {len(products)} products, needs 50 or more: "
            "run `.venv/bin/python manage.py seed_catalog --products 200`"
        )
    if bench.wrk is None:
        print(
            "bench: wrk not found (`make bench` installs it): the Python client measures "
            "every tier and cannot reach nginx's speed, so tiers 1 and 2 are understated",
            file=sys.stderr,
        )
    bench.page_tiers(categories, products)
    bench.targets(products[0])
    if rollout:
        if bench.wrk is None:
            raise NotRunningError("the rollout tier needs wrk: `make bench` installs it")
        _progress("8", "rolling deploy under load", "wrk keep-alive during `deploy rollout`")
        bench.rows.append(_rollout_row(bench.wrk, f"{bench.lb_url}{products[0]}{DYNAMIC}"))
    report(bench.rows, bench.figures, out_dir, method=_method(sizes))
    return bench.rows, bench.figures


def _method(sizes: Sizes) -> str:
    return (
        f"wrk: 1 thread pinned to one core, {WRK_CONNECTIONS} keep-alive connections, "
        f"{WRK_WARMUP} s warm-up then {WRK_SECONDS} s measured. Tiers 5 and 6 request every "
        f"product once after emptying the cache (Python client, median of {sizes.rounds} "
        "rounds). Tier 7: jobs per second of a burst of orders, p50/p99 from placement to "
        "READY of orders placed 10 a second."
    )


def _orders_row(orders: dict) -> Row:
    """Tier 7: jobs per second of a burst; p50/p99 of orders placed one at a time."""
    return Row(
        "7",
        "special orders, trivial bake (jobs/s)",
        "orders",
        orders["jobs_per_second"],
        orders["p50_ms"],
        orders["p99_ms"],
        0,  # an order that fails or never gets READY stops the bench instead
        orders["burst"] + orders["paced"],
        note=f"jobs/s of {orders['burst']} orders committed at once; p50/p99 from placement "
        f"to READY of {orders['paced']} orders placed 10 a second",
    )


def _page_sized_static_file(layout: Layout, lb_url: str, product: str) -> str:
    """The URL of a static file with the prerendered product page's bytes: tier 1 serves
    as many bytes per request as tier 2, without Django and without a lookup."""
    page = _get(lb_url, product).encode()
    folder = layout.static_root / "bench"
    folder.mkdir(mode=0o755, exist_ok=True)
    (folder / "product-page.html").write_bytes(page)
    (folder / "product-page.html").chmod(0o644)  # nginx's workers read it
    return "/static/bench/product-page.html"


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


WRK_WARMUP = 2
WRK_SECONDS = 5
WRK_CONNECTIONS = 16


def wrk_command() -> list[str] | None:
    """``wrk`` with one thread and fixed connections, pinned with ``taskset`` to the
    machine's last core (the servers still share it, as they share every core); None
    when wrk is not installed."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    command = [wrk, "-t1", f"-c{WRK_CONNECTIONS}", "--latency"]
    taskset = shutil.which("taskset")
    if taskset is not None:
        command = [taskset, "-c", str((os.cpu_count() or 1) - 1), *command]
    return command


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNIT_MS[unit]


@dataclass(frozen=True)
class WrkFigures:
    requests: int
    seconds: float
    http_errors: int
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def errors(self) -> int:
        return self.http_errors + self.socket_errors

    @property
    def per_second(self) -> float:
        """Successful requests per second (wrk's own figure counts error responses)."""
        return (self.requests - self.http_errors) / self.seconds if self.seconds else 0.0


def parse_wrk(output: str) -> WrkFigures:
    """The figures in ``wrk --latency``'s report; DeployError when it has none."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", output)
    if total is None:
        raise DeployError(f"wrk printed no result: {output.strip()[-300:]!r}")
    percentile = {
        p: _ms(value, unit)
        for p, value, unit in re.findall(
            r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE
        )
    }
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    http_errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkFigures(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2), total.group(3)) / 1000,
        http_errors=int(http_errors.group(1)) if http_errors else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        p50_ms=percentile.get("50", 0.0),
        p99_ms=percentile.get("99", 0.0),
    )


def _wrk_run(command: list[str], url: str, seconds: int) -> WrkFigures:
    done = subprocess.run(  # noqa: S603  (wrk, on our own load balancer's URL)
        [*command, f"-d{seconds}s", url], capture_output=True, text=True, timeout=seconds + 30
    )
    if done.returncode != 0:
        raise DeployError(f"wrk failed on {url}: {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(done.stdout)


def _row_of(number: str, tier: str, f: WrkFigures, note: str = "") -> Row:
    """One table row from wrk's figures."""
    figures = (f.per_second, f.p50_ms, f.p99_ms, f.errors, f.requests)
    return Row(number, tier, "wrk", *figures, note=note)


def _wrk_row(command: list[str], number: str, tier: str, url: str) -> Row:
    _wrk_run(command, url, WRK_WARMUP)  # warm-up: connections, caches, workers
    return _row_of(number, tier, _wrk_run(command, url, WRK_SECONDS))


class WrkLoad:
    """wrk's keep-alive load on ``url`` for as long as the ``with`` block lasts; wrk stops
    on SIGINT and prints its report (socket errors included) into ``figures``."""

    def __init__(self, command: list[str], url: str) -> None:
        self.command, self.url = command, url
        self.output = ""

    def __enter__(self) -> WrkLoad:
        self._load = subprocess.Popen(  # noqa: S603  (wrk, on our own load balancer's URL)
            [*self.command, "-d3600s", self.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(WRK_WARMUP)
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(1)
        self._load.send_signal(signal.SIGINT)
        self.output, _ = self._load.communicate(timeout=30)

    @property
    def figures(self) -> WrkFigures:
        return parse_wrk(self.output)

    @property
    def socket_errors(self) -> str:
        sockets = re.search(r"Socket errors: [^\n]*", self.output)
        return sockets.group(0) if sockets else "no socket errors"


def _rollout_row(command: list[str], url: str) -> Row:
    """wrk's keep-alive load on ``url`` for the whole of `deploy rollout`."""
    with WrkLoad(command, url) as load:
        done = subprocess.run(
            [sys.executable, "-m", "deploy", "rollout"],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise DeployError(f"`deploy rollout` failed: {done.stderr.strip()[-500:]}")
    figures = load.figures
    return _row_of(
        "8",
        "rolling deploy under load",
        figures,
        note=f"{figures.requests:,} requests during the rollout; "
        f"{load.socket_errors}; HTTP errors {figures.http_errors}",
    )


def _median(results: list[TierResult]) -> TierResult:
    return sorted(results, key=lambda r: r.per_second)[len(results) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="median of this many rounds")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="every tier once and small (1 round, 20 orders, a 300-product build): a smoke run",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument(
        "--no-rollout", action="store_true", help="skip tier 8 (a rolling deploy under load)"
    )
    args = parser.parse_args(argv)
    try:
        sizes = QUICK if args.quick else Sizes(rounds=args.rounds)
        run(sizes=sizes, out_dir=args.out, rollout=not args.no_rollout)
    except DeployError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return 0  # a MISS is a result, reported above; a tier that could not run is an error


if __name__ == "__main__":
    sys.exit(main())
