"""Helpers for the cluster tests: the CLI as a subprocess, and a background request loop."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from supervisor.options import ServerOptions, UnhosedConfigParser

from deploy.paths import Layout
from deploy.programs import Program, render_program

CHECKOUT = Path(__file__).resolve().parents[2]


def supervisor_processes(program: Program, layout: Layout) -> list[Any]:
    """``program``'s processes as supervisor reads its rendered section (``%`` expanded)."""
    layout.logs.mkdir(parents=True, exist_ok=True)
    parser = UnhosedConfigParser()
    parser.read_string(render_program(program, layout.logs))
    section = f"program:{program.name}"
    return list(ServerOptions().processes_from_section(parser, section, program.name))


def run(
    command: list[str], *, timeout: float, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in the checkout, its output captured (the caller checks the exit)."""
    return subprocess.run(
        command, cwd=CHECKOUT, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def deploy_cli(
    *args: str, timeout: float = 300, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m deploy <args>`` from the checkout, as a user would."""
    return run([sys.executable, "-m", "deploy", *args], timeout=timeout, env=env)


def cluster_status() -> dict[str, Any]:
    """The parsed ``status-json``, whatever the cluster's health."""
    done = deploy_cli("status-json", timeout=60)
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise AssertionError(
            f"status-json gave no JSON (exit {done.returncode}):\n{done.stdout}{done.stderr}"
        ) from None


def new_session(*, keep_alive: bool = False) -> requests.Session:
    """A client that opens a fresh connection per request, unless ``keep_alive``.

    During an nginx reload the old workers close idle keep-alive connections; a client
    that sends on such a connection at that instant sees a reset that browsers silently
    retry but `requests` does not. Closing after each response keeps a test about the
    server side; ``keep_alive`` tests what never reloads nginx (a rollout).
    """
    session = requests.Session()
    if not keep_alive:
        session.headers["Connection"] = "close"
    return session


class _FromAddress(requests.adapters.HTTPAdapter):
    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address: str) -> requests.Session:
    """A client sending from loopback ``address`` (e.g. 127.0.0.5): to nginx another
    client than this host's 127.0.0.1, which its request limits leave alone."""
    session = new_session()
    session.mount("http://", _FromAddress(address))
    return session


@dataclass
class LoadResult:
    """What a load loop saw: every request counted, every failure described."""

    requests: int = 0
    failures: list[str] = field(default_factory=list)
    failure_times: list[float] = field(default_factory=list)  # monotonic send time of each
    clones: set[str] = field(default_factory=set)  # X-Clone of every answer

    def failures_sent_after(self, moment: float) -> list[str]:
        return [f for f, at in zip(self.failures, self.failure_times, strict=True) if at > moment]


class LoadLoop:
    """Requests in a background thread until stopped, or until ``max_seconds`` pass.

    A failure is any exception or unexpected status. ``post_slug`` switches the loop to
    alternate GET pages with CSRF-protected POSTs adding that product to a session cart,
    and counts a cart that forgot an earlier add (a lost session) as a failure.
    ``keep_alive`` sends every request on one connection, as browsers and wrk do.
    """

    def __init__(
        self,
        lb_url: str,
        *,
        post_slug: str | None = None,
        max_seconds: float = 120,
        keep_alive: bool = False,
    ):
        self.lb_url = lb_url
        self.post_slug = post_slug
        self.keep_alive = keep_alive
        self.max_seconds = max_seconds
        self.result = LoadResult()
        self._cart_count = 0  # adds the current session's cart must remember
        self._unanswered_adds = 0  # failed adds that the cart may or may not hold
        self._sent_at = 0.0  # when the current step began
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LoadLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _fail(self, what: str) -> None:
        self.result.failures.append(what)
        self.result.failure_times.append(self._sent_at)

    def _no_answer(self, exc: requests.RequestException, *, what: str = "request") -> None:
        self.result.requests += 1
        self._fail(f"{what}: {type(exc).__name__}: {exc}")

    def _check(self, response: requests.Response, expected: int, what: str) -> None:
        self.result.requests += 1
        if "X-Clone" in response.headers:
            self.result.clones.add(response.headers["X-Clone"])
        if response.status_code != expected:
            self._fail(f"{what}: HTTP {response.status_code}")

    def _one(self, session: requests.Session, step: int) -> None:
        if self.post_slug is None:
            path = "/" if step % 2 else "/healthz"
            self._check(session.get(f"{self.lb_url}{path}", timeout=30), 200, f"GET {path}")
            return
        if "csrftoken" not in session.cookies:
            self._check(session.get(f"{self.lb_url}/cart.json", timeout=30), 200, "GET /cart.json")
        try:
            response = session.post(
                f"{self.lb_url}/cart/add/{self.post_slug}/",
                headers={
                    "X-CSRFToken": session.cookies.get("csrftoken", ""),
                    "Accept": "application/json",
                },
                data={"quantity": "1"},
                timeout=30,
            )
        except requests.RequestException as exc:
            response = None
            self._no_answer(exc, what="POST /cart/add/")
        else:
            self._check(response, 200, "POST /cart/add/")
        if response is None or response.status_code != 200:
            # Unanswered (an error status, or no answer at all, e.g. a reset connection):
            # the clone may have died before or after saving the session.
            self._unanswered_adds += 1
            return
        self._cart_count += 1
        count = response.json()["count"]
        # The cart holds every answered add, plus at most the unanswered ones.
        if self._cart_count <= count <= self._cart_count + self._unanswered_adds:
            self._unanswered_adds -= count - self._cart_count  # those were applied after all
        else:
            self._fail(
                f"cart count {count} after {self._cart_count} answered and "
                f"{self._unanswered_adds} unanswered adds (clone {response.headers.get('X-Clone')})"
            )
            self._unanswered_adds = 0
        self._cart_count = count
        self._check(session.get(f"{self.lb_url}/", timeout=30), 200, "GET /")

    def _run(self) -> None:
        session = new_session(keep_alive=self.keep_alive)
        deadline = time.monotonic() + self.max_seconds
        step = 0
        while not self._stop.is_set() and time.monotonic() < deadline:
            step += 1
            self._sent_at = time.monotonic()
            try:
                self._one(session, step)
            except requests.RequestException as exc:
                self._no_answer(exc)
            if step % 40 == 0:  # a new cart now and then keeps session payloads small
                session = new_session(keep_alive=self.keep_alive)
                self._cart_count = self._unanswered_adds = 0
