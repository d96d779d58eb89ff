"""Health probes (never raising: False for an unreachable component) and `wait_until`,
which turns a probe that never succeeds into one clear error.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import NotHealthyError
from .proc import succeeds, tail_file


def port_taken(host: str, port: int) -> bool:
    """True when something already accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def redis_ping(host: str, port: int, password: str, timeout: float = 1.0) -> bool:
    """True when a Redis server at host:port takes ``password`` and answers PING."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(f"AUTH {password}\r\nPING\r\n".encode())
            answer = b""
            while answer.count(b"\r\n") < 2 and (chunk := conn.recv(64)):
                answer += chunk
            return answer == b"+OK\r\n+PONG\r\n"
    except OSError:
        return False


def redis_info(
    host: str, port: int, password: str, section: str, timeout: float = 1.0
) -> dict[str, str]:
    """The fields of a Redis server's ``INFO section``; empty when it does not answer."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(f"AUTH {password}\r\nINFO {section}\r\n".encode())
            answer = b""
            while chunk := conn.recv(4096):
                answer += chunk
                ok, _, rest = answer.partition(b"\r\n")
                length, _, body = rest.partition(b"\r\n")
                if length.startswith(b"$") and len(body) >= int(length[1:]):
                    break
    except (OSError, ValueError):
        return {}
    if ok != b"+OK":
        return {}
    lines = body.decode(errors="replace").splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line)


def pg_ready(pg_isready: Path, host: str, port: int) -> bool:
    """True when PostgreSQL at host:port accepts connections (``pg_isready``)."""
    return succeeds([pg_isready, "-q", "-h", host, "-p", str(port), "-t", "2"])


@dataclass(frozen=True)
class HttpResult:
    """One GET: ``ok`` is HTTP 200; ``body`` is the decoded JSON object, if any."""

    status: int | None
    body: dict[str, object] = field(default_factory=dict)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200


def http_get(url: str, timeout: float = 5.0) -> HttpResult:
    """GET ``url`` (an http:// URL built by this package); never raises.

    The default timeout outlasts a clone's database connect timeout (3 s), so a clone
    that is slow because a database is unreachable reports that, instead of looking dead.
    """
    if not url.startswith("http://"):
        raise ValueError(f"refusing non-http URL {url!r}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http only
            return HttpResult(response.status, _json_object(response.read()))
    except urllib.error.HTTPError as exc:
        return HttpResult(exc.code, _json_object(exc.read()), error=f"HTTP {exc.code}")
    except (OSError, ValueError) as exc:
        return HttpResult(None, error=str(exc))


def _json_object(raw: bytes) -> dict[str, object]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def wait_until(
    probe: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    log: Path | None = None,
    interval: float = 0.2,
) -> None:
    """Poll ``probe`` until it returns True; after ``timeout`` seconds raise NotHealthyError.

    The error names ``what`` did not come up and, when ``log`` is given, quotes its tail.
    """
    deadline = time.monotonic() + timeout
    while True:
        if probe():
            return
        if time.monotonic() >= deadline:
            message = f"{what} did not become healthy within {timeout:.0f}s"
            if log is not None:
                message += f"; last lines of {log}:\n{tail_file(log)}"
            raise NotHealthyError(message)
        time.sleep(interval)
