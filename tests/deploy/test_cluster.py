"""The running cluster as `status-json` and nginx present it."""

from __future__ import annotations

import http.client
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from tests.deploy.helpers import cluster_status, deploy_cli


def test_status_json_lists_every_component_healthy(cluster: dict[str, Any]) -> None:
    ports = cluster["ports"]  # saved at `up`: the defaults, or SHOP_*_PORT then
    assert cluster["lb"] == f"http://127.0.0.1:{ports['lb']}"
    assert cluster["healthy"] is True
    assert len(cluster["clones"]) >= 2
    for clone in cluster["clones"]:
        assert clone["name"].startswith("clone-")
        assert clone["url"].startswith("http://127.0.0.1:")
        assert isinstance(clone["pid"], int)
        assert clone["healthy"] is True
        assert clone["release"]
    for key in ("primary", "replica"):
        service = cluster["services"][key]
        assert (service["host"], service["dbname"], service["user"]) == (
            "127.0.0.1",
            "shop",
            "shop",
        )
        assert service["healthy"] is True and isinstance(service["pid"], int)
    assert cluster["services"]["primary"]["port"] == ports["pg_primary"]
    assert cluster["services"]["replica"]["port"] == ports["pg_replica"]
    for key, port in (("redis", ports["redis"]), ("redis_cache", ports["redis_cache"])):
        url = urlsplit(cluster["services"][key]["url"])
        assert (url.scheme, url.hostname, url.port, url.path) == ("redis", "127.0.0.1", port, "/0")
        assert url.password  # every Redis server requires one
    assert [c["url"] for c in cluster["clones"]] == [
        f"http://127.0.0.1:{ports['clone_base'] + i}" for i in range(len(cluster["clones"]))
    ]


def test_all_clones_run_one_release_with_one_settings_fingerprint(
    cluster: dict[str, Any],
) -> None:
    answers = [requests.get(f"{c['url']}/healthz", timeout=5).json() for c in cluster["clones"]]
    assert len({a["release"] for a in answers}) == 1
    assert len({a["settings_fingerprint"] for a in answers}) == 1
    assert [a["clone"] for a in answers] == [c["name"] for c in cluster["clones"]]


def test_status_table_exits_zero_when_healthy(cluster: dict[str, Any]) -> None:
    done = deploy_cli("status")
    assert done.returncode == 0, done.stdout + done.stderr
    for clone in cluster["clones"]:
        assert clone["name"] in done.stdout


def test_second_up_changes_nothing_and_is_quick(cluster: dict[str, Any]) -> None:
    # The first converges (code edited since the last `up` is a new release); the second
    # must then find nothing to do.
    first = deploy_cli("up", timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    before = {c["name"]: c["pid"] for c in cluster_status()["clones"]}
    done = deploy_cli("up", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "release phase" not in done.stdout  # nothing had to (re)start
    after = {c["name"]: c["pid"] for c in cluster_status()["clones"]}
    assert after == before


def test_nginx_serves_collected_static_files(lb_url: str) -> None:
    # The admin's stylesheet is collected by the release phase; nginx workers (www-data
    # when we are root) must be able to read it inside RUN_DIR.
    response = requests.get(f"{lb_url}/static/admin/css/base.css", timeout=5)
    assert response.status_code == 200
    assert "X-Clone" not in response.headers


def test_prerendered_page_is_served_for_get_but_never_for_post(
    cluster: dict[str, Any], lb_url: str
) -> None:
    current = Path(cluster["run_dir"]) / "prerendered" / "current"
    made_current = not current.exists()
    if made_current:
        current.mkdir(parents=True)
    page_dir = current / f"deploy-test-{uuid.uuid4().hex[:8]}"
    page_dir.mkdir()
    try:
        (page_dir / "index.html").write_text("<p>baked</p>")
        page_dir.chmod(0o755)
        (page_dir / "index.html").chmod(0o644)
        got = requests.get(f"{lb_url}/{page_dir.name}/", timeout=5)
        assert got.status_code == 200 and got.text == "<p>baked</p>"
        assert "X-Clone" not in got.headers
        with_query = requests.get(f"{lb_url}/{page_dir.name}/?page=2", timeout=5)
        assert "X-Clone" in with_query.headers  # query strings go to the app
        posted = requests.post(f"{lb_url}/{page_dir.name}/", timeout=5)
        assert "X-Clone" in posted.headers  # only the app answers a POST
    finally:
        (page_dir / "index.html").unlink()
        page_dir.rmdir()
        if made_current:
            current.rmdir()


def test_private_paths_never_come_from_prerendered_files(
    cluster: dict[str, Any], lb_url: str
) -> None:
    current = Path(cluster["run_dir"]) / "prerendered" / "current"
    made_current = not current.exists()
    planted = current / "cart.json" / "index.html"
    planted.parent.mkdir(parents=True)
    planted.write_text("stale")
    try:
        response = requests.get(f"{lb_url}/cart.json", timeout=5)
        assert response.text != "stale"
        assert "X-Clone" in response.headers
    finally:
        planted.unlink()
        planted.parent.rmdir()
        if made_current:
            current.rmdir()


def _status_from(address: str, lb_url: str, path: str) -> int:
    """HTTP status of ``GET path`` through nginx, sent from loopback ``address``."""
    lb = urlsplit(lb_url)
    connection = http.client.HTTPConnection(
        lb.hostname, lb.port, timeout=10, source_address=(address, 0)
    )
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_healthz_answers_this_host_only(lb_url: str) -> None:
    # 127.0.0.2 is loopback too, but another address: stands in for a public client.
    assert _status_from("127.0.0.1", lb_url, "/healthz") == 200
    assert _status_from("127.0.0.2", lb_url, "/healthz") == 403
    assert _status_from("127.0.0.2", lb_url, "/") == 200
