"""`python -m deploy.bench` (`make bench`): every serving tier of the running cluster
against its physical limit, measured in one run and reported as ratios.

Tiers, all through nginx on the load balancer's port:
1. a static file with the prerendered product page's bytes (nginx alone: the limit);
2. the prerendered product page (lesson 4.1; `make up` publishes a build);
3. ``/cart.json``, the minimal dynamic view (a session, no SQL);
4. the cached product page (two Redis round trips); 4b the category page's cached query;
5. the product page assembled from PostgreSQL (cache emptied first, every product once);
6. with the Mongo read model on (`make up MONGO=1`), the product page read as one
   document (tier 5 then marks every document "projection pending", which sends cache
   refills to PostgreSQL). The server is SecantusDB: its figures are not MongoDB's;
8. a rolling deploy (`deploy rollout`) under wrk's keep-alive load: failed requests,
   socket errors included.

The dynamic tiers carry a query string (``?dynamic``): nginx never answers one from a
prerendered file, so they reach the clones.

The load client is ``wrk`` (`make bench` installs it): one thread pinned with ``taskset``
to one core, fixed keep-alive connections, a warm-up, then a measured window. Tiers 5
and 6 must miss the cache on every request, so this process requests every product once
(threads, keep-alive); the clones are the limit there, not the client. Without wrk the
Python client measures every tier and says so: it cannot reach nginx's speed.

Prints a table (req/s, p50, p99, errors, ratios to tiers 1 and 5) and PASS/MISS per
target, and writes ``bench-results/bench.md``, ``bench.json``, and the chart ``bench.png``
(matplotlib, log scale; ``bench.svg`` too). A MISS is a result (exit 0); a tier that
could not run is an error (exit 1).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import shutil
import signal
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
    p99_ms: float

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
        p99_ms=1000 * ordered[int(0.99 * (len(ordered) - 1))],
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


@dataclass(frozen=True)
class Row:
    """One tier of the table: successful requests per second, latency and errors
    (HTTP errors plus socket errors), measured by ``client``."""

    number: str
    tier: str
    client: str
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    note: str = ""  # what the errors were, for the report


def _python_row(number: str, tier: str, result: TierResult) -> Row:
    return Row(
        number,
        tier,
        "python",
        result.per_second,
        result.p50_ms,
        result.p99_ms,
        result.failures,
        result.requests,
    )


def _progress(number: str, tier: str, how: str) -> None:
    print(f"bench: tier {number}, {tier} ({how}) ...", flush=True)


def run(*, rounds: int, out_dir: Path, rollout: bool = True) -> list[Row]:
    layout = Layout.discover()
    topology = load_topology(layout)
    lb_url = topology.lb_url
    categories, products = _catalog_paths(lb_url)
    if len(products) < 50:
        raise SystemExit(
            f"bench: found {len(products)} products, needs 50 or more: "
            "run `.venv/bin/python manage.py seed_catalog --products 200`"
        )
    cache_password = load_credentials(layout).redis_cache
    wrk = wrk_command()
    if wrk is None:
        print(
            "bench: wrk not found (`make bench` installs it): the Python client measures "
            "every tier and cannot reach nginx's speed, so tiers 1 and 2 are understated",
            file=sys.stderr,
        )
    rows: list[Row] = []

    def one_url(number: str, tier: str, path: str) -> None:
        if wrk is not None:
            _progress(number, tier, f"wrk, {WRK_WARMUP} s warm-up, {WRK_SECONDS} s measured")
            rows.append(_wrk_row(wrk, number, tier, f"{lb_url}{path}"))
        else:
            _progress(number, tier, "Python client")
            rows.append(_python_row(number, tier, _fetch_all(lb_url, [path] * 2000)))

    product = products[0]
    one_url("1", "nginx static file", _page_sized_static_file(layout, lb_url, product))
    one_url("2", "product page, prerendered", product)
    one_url("3", "/cart.json (session only)", "/cart.json")
    one_url("4", "product page, cached", f"{product}{DYNAMIC}")
    one_url("4b", "category page, cached query", f"{categories[0]}{DYNAMIC}")
    # Every request a cache miss: one URL would be cached after its first request, so the
    # Python client requests every product once after emptying the cache. The clones are
    # the limit here (about a hundred pages a second), not the client.
    dynamic = [f"{path}{DYNAMIC}" for path in products]
    _progress("5", "product page, uncached", f"Python client, {rounds} rounds")
    uncached = []
    for _ in range(rounds):
        _flush_cache(topology.ports.redis_cache, cache_password)
        with _mongo_documents_pending(layout, topology):  # SQL even with Mongo on
            uncached.append(_fetch_all(lb_url, dynamic))
    rows.append(_python_row("5", "product page, uncached", _median(uncached)))
    if topology.mongo:
        _progress("6", "product page, uncached, from Mongo", f"Python client, {rounds} rounds")
        from_mongo = []
        for _ in range(rounds):
            _flush_cache(topology.ports.redis_cache, cache_password)
            from_mongo.append(_fetch_all(lb_url, dynamic))
        rows.append(_python_row("6", "product page, uncached, from Mongo", _median(from_mongo)))
    if rollout:
        if wrk is None:
            raise NotRunningError("the rollout tier needs wrk: `make bench` installs it")
        _progress("8", "rolling deploy under load", "wrk keep-alive during `deploy rollout`")
        rows.append(_rollout_row(wrk, f"{lb_url}{product}{DYNAMIC}"))
    _report(rows, out_dir)
    return rows


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
        [*command, f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=False,
    )
    if done.returncode != 0:
        raise DeployError(f"wrk failed on {url}: {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(done.stdout)


def _row_of(number: str, tier: str, figures: WrkFigures, note: str = "") -> Row:
    """One table row from wrk's figures."""
    return Row(
        number,
        tier,
        "wrk",
        figures.per_second,
        figures.p50_ms,
        figures.p99_ms,
        figures.errors,
        figures.requests,
        note=note,
    )


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
        done = subprocess.run(  # noqa: S603  (this project's own deploy command)
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


def targets(rows: list[Row]) -> list[tuple[str, bool]]:
    """Each target of the benchmark and whether this run met it (ratios in one run)."""
    by = {row.number: row.per_second for row in rows}
    static, prerendered, cart = by["1"], by["2"], by["3"]
    cached, uncached = by["4"], by["5"]
    met = [
        ("prerendered ≥ 0.9× static file", prerendered >= 0.9 * static),
        ("prerendered ≥ 50× uncached page", prerendered >= 50 * uncached),
        ("cached ≥ 3× uncached page", cached >= 3 * uncached),
        ("cached ≥ 0.6× /cart.json", cached >= 0.6 * cart),
        ("zero errors in tiers 1–6", all(r.errors == 0 for r in rows if r.number != "8")),
    ]
    rollout = [r for r in rows if r.number == "8"]
    if rollout:
        met.append(
            ("rollout: zero failed requests, socket errors included", rollout[0].errors == 0)
        )
    return met


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.3g}×" if base else "–"


def _table(rows: list[Row]) -> list[list[str]]:
    by = {row.number: row.per_second for row in rows}
    return [
        [
            row.number,
            row.tier,
            row.client,
            f"{row.per_second:,.0f}",
            f"{row.p50_ms:.2f}",
            f"{row.p99_ms:.2f}",
            str(row.errors),
            _ratio(row.per_second, by.get("1", 0.0)),
            _ratio(row.per_second, by.get("5", 0.0)),
        ]
        for row in rows
    ]


HEADER = ["#", "tier", "client", "req/s", "p50 ms", "p99 ms", "errors", "× tier 1", "× tier 5"]


def _report(rows: list[Row], out_dir: Path) -> None:
    table = _table(rows)
    widths = [max(len(line[i]) for line in [HEADER, *table]) for i in range(len(HEADER))]
    print()
    for line in [HEADER, *table]:
        print(
            "  ".join(
                c.ljust(w) if i < 3 else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )
    met = targets(rows)
    print()
    for name, ok in met:
        print(f"{'PASS' if ok else 'MISS'}  {name}")
    for row in rows:
        if row.note:
            print(f"tier {row.number}: {row.note}")
    out_dir.mkdir(exist_ok=True)
    (out_dir / "bench.json").write_text(
        json.dumps(
            {"tiers": [asdict(r) for r in rows], "targets": dict(met), "cores": os.cpu_count()},
            indent=2,
        )
        + "\n"
    )
    report = out_dir / "bench.md"
    report.write_text(_markdown(table, met, rows))
    (out_dir / "bench.svg").write_text(_svg(rows))
    chart = out_dir / "bench.png"
    _png(rows, chart)
    print(f"\nreport: {report}\nchart: {chart}")


def _markdown(table: list[list[str]], met: list[tuple[str, bool]], rows: list[Row]) -> str:
    lines = [
        f"# `make bench`, one run on {os.cpu_count()} cores",
        "",
        f"wrk: 1 thread pinned to one core, {WRK_CONNECTIONS} keep-alive connections, "
        f"{WRK_WARMUP} s warm-up then {WRK_SECONDS} s measured. Tier 5 (and 6) request every "
        "product once after emptying the cache, with the Python client.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
        *("| " + " | ".join(line) + " |" for line in table),
        "",
        *(f"- {'PASS' if ok else 'MISS'}: {name}" for name, ok in met),
        "",
        *(f"Tier {row.number}: {row.note}.\n" for row in rows if row.note),
        "![requests per second per tier, log scale](bench.png)",
        "",
    ]
    return "\n".join(lines)


def _png(rows: list[Row], path: Path) -> None:
    """The tiers as bars on a log scale, tier 1 (the limit) as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(9, 0.5 * len(rows) + 1.6))
    labels = [f"{r.number}. {r.tier}" for r in reversed(rows)]
    values = [r.per_second for r in reversed(rows)]
    colours = ["#b5522b" if r.errors == 0 else "#888888" for r in reversed(rows)]
    axes.barh(labels, values, color=colours)
    axes.set_xscale("log")
    for y, value in enumerate(values):
        axes.text(value * 1.08, y, f"{value:,.0f}/s", va="center", fontsize=9)
    limit = next((r.per_second for r in rows if r.number == "1"), None)
    if limit:
        axes.axvline(limit, color="#333333", linestyle="--", linewidth=1)
    axes.set_xlabel("successful requests per second (log scale); grey: errors in the tier")
    axes.set_title(
        f"make bench, one run on {os.cpu_count()} cores (dashed: the static file, the limit)",
        fontsize=11,
    )
    axes.set_xlim(right=max(values) * 8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def _svg(rows: list[Row]) -> str:
    """Requests per second on a log scale, the static file's figure marked as the limit."""
    top = max(max(r.per_second for r in rows), 10.0)
    decades = math.ceil(math.log10(top))
    left, width = 300, 400

    def x(value: float) -> float:
        return left + width * math.log10(max(value, 1.0)) / decades

    parts = []
    for decade in range(decades + 1):
        gx = left + width * decade / decades
        parts.append(
            f'<line x1="{gx:.0f}" y1="26" x2="{gx:.0f}" y2="{34 + 34 * len(rows)}" stroke="#ddd"/>'
            f'<text x="{gx:.0f}" y="{48 + 34 * len(rows)}" font-size="11" '
            f'text-anchor="middle">{10**decade:,}</text>'
        )
    for row_number, r in enumerate(rows):
        y = 30 + row_number * 34
        parts.append(
            f'<text x="10" y="{y + 16}" font-size="13">{r.number}. {r.tier}</text>'
            f'<rect x="{left}" y="{y}" width="{x(r.per_second) - left:.0f}" height="22" '
            f'fill="{"#b5522b" if r.errors == 0 else "#888"}"/>'
            f'<text x="{x(r.per_second) + 6:.0f}" y="{y + 16}" font-size="12">'
            f"{r.per_second:,.0f}/s</text>"
        )
    limit = next((r.per_second for r in rows if r.number == "1"), None)
    if limit:
        parts.append(
            f'<line x1="{x(limit):.0f}" y1="26" x2="{x(limit):.0f}" y2="{34 + 34 * len(rows)}" '
            'stroke="#333" stroke-dasharray="4 3"/>'
        )
    height = 60 + 34 * len(rows)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="820" height="{height}" '
        'font-family="sans-serif"><text x="10" y="18" font-size="14" font-weight="bold">'
        f"Requests per second through nginx, log scale (one run, {os.cpu_count()} cores; "
        "dashed: the static file, the limit)</text>" + "".join(parts) + "</svg>\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="median of this many rounds")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument(
        "--no-rollout", action="store_true", help="skip tier 8 (a rolling deploy under load)"
    )
    args = parser.parse_args(argv)
    try:
        run(rounds=args.rounds, out_dir=args.out, rollout=not args.no_rollout)
    except DeployError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return 0  # a MISS is a result, reported above; a tier that could not run is an error


if __name__ == "__main__":
    sys.exit(main())
