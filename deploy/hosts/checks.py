"""Checks of the deployed hosts, made from this machine's root namespace over the bridge.

Each check prints what it saw (which clone served, where reads went, who baked) and
raises AssertionError with the evidence when the deployment does not behave.
"""

from __future__ import annotations

import datetime
import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import CheckFailedError
from ..proc import run
from .lab import IP, Host, Lab, in_namespace

Playbook = Callable[..., None]


def expect(condition: bool, message: str) -> None:
    """A check: raise CheckFailedError with ``message`` (the evidence) unless it holds."""
    if not condition:
        raise CheckFailedError(message)


class Shop:
    """HTTP to the load balancer, with cookies (CSRF, session) like a browser."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def get(self, path: str, timeout: float = 10) -> tuple[int, dict[str, str], str]:
        request = urllib.request.Request(self.base_url + path)  # noqa: S310 - http:// only
        return self._open(request, timeout)

    def post(self, path: str, data: dict[str, str]) -> tuple[int, dict[str, str], str]:
        request = urllib.request.Request(  # noqa: S310 - http:// only
            self.base_url + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": self.base_url + path},
        )
        return self._open(request, 30)

    def _open(
        self, request: urllib.request.Request, timeout: float
    ) -> tuple[int, dict[str, str], str]:
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode(errors="replace")

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.cookies if c.name == name and c.value)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # the caller reads Location itself


def manage(lab: Lab, host: Host, *args: str, timeout: float = 300) -> str:
    """manage.py on ``host`` over SSH, as its app tier runs it."""
    return run(
        lab.ssh_command(host, str(lab.host_dir(host) / "manage"), *args),
        what=f"manage.py {' '.join(args)} on {host.name}",
        timeout=timeout,
    )


def psql(lab: Lab, host: Host, sql: str) -> str:
    """A query as postgres on ``host``'s server, through its socket, inside its namespace."""
    socket = lab.host_dir(host) / "pg" / "sock"
    return run(
        in_namespace(
            host,
            "/usr/sbin/runuser",
            "-u",
            "postgres",
            "--",
            "psql",
            "-h",
            str(socket),
            "-d",
            "shop",
            "-Atc",
            sql,
        ),
        what=f"psql on {host.name}",
        cwd=Path("/"),  # one postgres may enter: the checkout may be private (under /root)
    ).strip()


def lb_url(lab: Lab) -> str:
    return f"http://{lab.host('lb').address}"


def seed(lab: Lab) -> list[str]:
    """A small catalog, then the prerendered pages, built once (on the worker host)."""
    app1 = lab.host("app1")
    manage(
        lab, app1, "seed_catalog", "--if-empty", "--products", "12", "--reviews-per-product", "2"
    )
    manage(lab, lab.host("worker"), "prerender", "--verbosity", "0")
    status, _, page = Shop(lb_url(lab)).get("/categories/cakes/?dynamic")
    expect(status == 200, f"category page: HTTP {status}")
    slugs = sorted(set(re.findall(r'href="/products/([\w-]+)/"', page)))
    expect(bool(slugs), "no product links on the cakes page")
    return slugs


def check_prerendered(lab: Lab, slug: str) -> None:
    """Pages built once on the worker host are served by the load balancer's nginx."""
    status, headers, _ = Shop(lb_url(lab)).get(f"/products/{slug}/")
    prerendered = headers.get("X-Prerendered") == "1"
    current = (lab.shared_dir / "prerendered" / "current").resolve()
    print(
        f"  GET /products/{slug}/ on the LB host: HTTP {status}, "
        f"{'prerendered (no clone)' if prerendered else 'from ' + headers.get('X-Clone', '?')}; "
        f"published build: {current.name}"
    )
    expect(status == 200 and prerendered, f"not served from the prerendered files: {headers}")


def check_spread_and_reads(lab: Lab, slugs: list[str]) -> None:
    """Dynamic pages through the load balancer: served by clones on both app hosts, read
    on the replica host."""
    _flush_page_cache(lab)  # cold: every page is assembled from the database once
    shop = Shop(lb_url(lab))
    served: Counter[str] = Counter()
    reads: Counter[str] = Counter()
    for number in range(24):
        status, headers, _ = shop.get(f"/products/{slugs[number % len(slugs)]}/?dynamic={number}")
        expect(status == 200, f"HTTP {status} from {headers.get('X-Clone')}")
        clone = headers.get("X-Clone", "?")
        read = headers.get("X-DB-Read", "none (cached object)")
        served[clone] += 1
        reads[read] += 1
        path = f"/products/{slugs[number % len(slugs)]}/"
        print(f"  GET {path:44} served by {clone:13} read: {read}")
    print(f"  served by: {dict(served)}; reads: {dict(reads)}")
    hosts = {clone.split("-clone-")[0] for clone in served}
    expect({"app1", "app2"} <= hosts, f"requests not spread over both app hosts: {dict(served)}")
    expect(any(r.startswith("replica") for r in reads), f"no read on the replica: {dict(reads)}")
    replica = lab.host("replica")
    clients = psql(
        lab,
        replica,
        "SELECT string_agg(DISTINCT host(client_addr), ' ') FROM pg_stat_activity"
        " WHERE datname = 'shop' AND client_addr IS NOT NULL",
    )
    print(f"  connections to the replica host ({replica.address}) from: {clients}")
    app_addresses = {lab.host(h).address for h in ("app1", "app2")}
    expect(
        bool(app_addresses & set(clients.split())), f"no app host reads the replica: {clients!r}"
    )


def _flush_page_cache(lab: Lab) -> None:
    db = lab.host("db")
    password = (lab.private / "secrets" / "redis-cache").read_text().strip()
    run(
        in_namespace(db, "/usr/bin/redis-cli", "-h", db.address, "-p", "6380", "FLUSHALL"),
        what="FLUSHALL on the cache's Redis",
        env={"REDISCLI_AUTH": password, "PATH": "/usr/bin:/bin"},
    )


def check_order_baked(lab: Lab, slug: str) -> None:
    """A special order placed through the load balancer is baked on the worker host."""
    shop = Shop(lb_url(lab))
    status, _, form = shop.get(f"/orders/special/new/?product={slug}")
    expect(status == 200, f"order form: HTTP {status}")
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    pickup = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()  # noqa: DTZ011
    status, headers, body = shop.post(
        "/orders/special/new/",
        {
            **hidden,
            "product": slug,
            "writing": "Many hosts",
            "pickup_date": pickup,
            "email": "customer@example.com",
            "csrfmiddlewaretoken": shop.cookie("csrftoken"),
        },
    )
    expect(status == 302, f"order not placed: HTTP {status}: {body[:300]}")
    match = re.fullmatch(r"/orders/([0-9a-f-]{36})/", headers["Location"])
    if match is None:
        raise CheckFailedError(f"not an order's address: {headers['Location']}")
    uuid = match.group(1)
    # uuid matched [0-9a-f-]{36} above: nothing else can reach the query.
    query = f"SELECT status || ' ' || coalesce(baker, '') FROM orders_specialorder WHERE uuid = '{uuid}'"  # noqa: E501, S608
    deadline = time.monotonic() + 90
    row = ""
    while time.monotonic() < deadline:
        row = psql(
            lab,
            lab.host("db"),
            query,
        )
        if row.startswith(("READY", "FAILED")):
            break
        time.sleep(1)
    print(f"  order {uuid} (placed via {headers.get('X-Clone', 'the LB')}): {row}")
    expect(row.startswith("READY"), f"order {uuid} not baked: {row!r}")
    expect(row.split()[1].startswith("worker-"), f"baked elsewhere than the worker host: {row!r}")


def run_all(lab: Lab, playbook: Playbook) -> None:
    print("== seed the catalog, prerender once (worker host)")
    slugs = seed(lab)
    print("== prerendered pages, built on the worker host, served by the LB host")
    check_prerendered(lab, slugs[0])
    print("== spread over app hosts, reads on the replica host")
    check_spread_and_reads(lab, slugs)
    print("== a special order baked on the worker host")
    check_order_baked(lab, slugs[0])
    print("== rollout, host by host, under keep-alive load")
    check_rollout(lab, playbook, slugs[0])
    print("== one app host's network cut (ip link set eth0 down)")
    check_network_cut(lab, slugs)


def check_rollout(lab: Lab, playbook: Playbook, slug: str) -> None:
    """rollout.yml to a second release under wrk's keep-alive load: zero failed requests."""
    from ..bench import WrkLoad

    current = _release_of(lab, "app1")
    release = f"{current.split('-')[0]}-r2"
    url = f"{lb_url(lab)}/products/{slug}/?dynamic"
    with WrkLoad(["/usr/bin/wrk", "-t1", "-c8"], url) as load:
        playbook(lab, "rollout.yml", "-e", f"release={release}")
    figures = load.figures
    print(
        f"  {current} -> {release}: {figures.requests} requests under load during the rollout, "
        f"{load.socket_errors}, HTTP errors {figures.http_errors}"
    )
    failed = figures.errors
    print(f"  rollout failed requests: {failed}")
    for host in ("app1", "app2"):
        expect(_release_of(lab, host) == release, f"{host} still runs {_release_of(lab, host)}")
    expect(figures.requests > 0, "wrk made no request")
    expect(failed == 0, f"{failed} failed requests during the rollout")


def check_network_cut(lab: Lab, slugs: list[str]) -> None:
    """app2's network cut (its interface down) while GETs run: none fails, app1 serves."""
    app2 = lab.host("app2")
    urls = [f"/products/{slugs[n % len(slugs)]}/?cut={n}" for n in range(60)]

    def get(path: str) -> tuple[int, str]:
        status, headers, _ = Shop(lb_url(lab)).get(path, timeout=30)
        return status, headers.get("X-Clone", "?")

    with ThreadPoolExecutor(max_workers=4) as pool:
        before = list(pool.map(get, urls[:20]))
        run(in_namespace(app2, IP, "link", "set", "eth0", "down"), what="app2's network cut")
        try:
            during = list(pool.map(get, urls[20:]))
        finally:
            run(in_namespace(app2, IP, "link", "set", "eth0", "up"), what="app2's network back")
    failed = [r for r in before + during if r[0] != 200]
    print(f"  before the cut: {dict(Counter(c for _, c in before))}")
    print(f"  app2's link down: {dict(Counter(c for _, c in during))}; failed GETs: {len(failed)}")
    expect(not failed, f"failed GETs with app2 cut off: {failed}")
    expect(all(c.startswith("app1-") for _, c in during), "a request reached the cut host")


def _release_of(lab: Lab, host: str) -> str:
    import json

    _, _, body = Shop(f"http://{lab.host(host).address}:8001").get("/healthz")
    return str(json.loads(body)["release"])
