"""The same special-order flow with RabbitMQ as the Dramatiq broker (``RABBITMQ_URL``).

The cluster's own processes use the Redis broker; this test starts a small second stack
on the same database, media and mail directory (one gunicorn clone, one Dramatiq worker,
one outbox relay) whose only difference is ``DRAMATIQ_BROKER_URL=$RABBITMQ_URL``. The
cluster's relay is stopped meanwhile, so every job of the test goes through RabbitMQ.
Skips locally without ``RABBITMQ_URL``; fails when ``CI=true`` and it is missing.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator

import pytest

from deploy.paths import Layout
from deploy.programs import app_env
from deploy.runtime import app_runtime
from deploy.topology import load_topology
from tests.cluster import deploy, wait_for
from tests.deploy.helpers import new_session
from tests.orders.conftest import (
    emails_about,
    place_order,
    placed_uuid,
    shop_order,
    wait_until_ready,
)


def _rabbitmq_url(in_ci: bool) -> str:
    url = os.environ.get("RABBITMQ_URL", "")
    if not url:
        if in_ci:
            pytest.fail("CI=true but RABBITMQ_URL is not set: the RabbitMQ flow must run in CI")
        pytest.skip("RABBITMQ_URL is not set: RabbitMQ broker flow not tested here")
    return url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        return new_session().get(f"{url}/healthz", timeout=2).status_code == 200
    except OSError:
        return False


@pytest.fixture
def rabbitmq_stack(in_ci: bool, cluster) -> Iterator[str]:
    """A clone URL whose jobs go through RabbitMQ to a worker of its own."""
    url = _rabbitmq_url(in_ci)
    layout = Layout.discover()
    port = _free_port()
    # As the cluster's app tier: its user (as root), code and venv, so the pictures it
    # bakes into the shared media are the app user's like every other.
    release = load_topology(layout).release
    runtime = app_runtime(layout, release)
    code = layout.release_dir(release)
    as_app_user = ["/usr/sbin/runuser", "-u", runtime.user, "--"] if runtime.user else []
    python = [*as_app_user, *runtime.manage(code)]
    commands = {
        "rabbit-clone": [
            *as_app_user,
            str(runtime.venv_bin / "gunicorn"),
            "config.wsgi",
            "-c",
            str(code / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        "rabbit-worker": [*python, "rundramatiq", "--processes", "1", "--threads", "2"],
        "rabbit-relay": [*python, "outbox_relay"],
    }
    deploy("stop", "outbox-relay")
    processes = []
    try:
        for name, command in commands.items():
            env = {
                **os.environ,
                **app_env(load_topology(layout), layout, name),
                "DRAMATIQ_BROKER_URL": url,
            }
            log = open(layout.logs / f"test-{name}.log", "w")
            processes.append(subprocess.Popen(command, cwd=code, env=env, stdout=log, stderr=log))
        clone = f"http://127.0.0.1:{port}"
        wait_for(lambda: _healthy(clone), timeout=30, what="the RabbitMQ clone's /healthz")
        broker = new_session().get(f"{clone}/healthz", timeout=5).json()["jobs"]["broker"]
        assert (broker["ok"], broker["kind"]) == (True, "rabbitmq")
        yield clone
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        deploy("start", "outbox-relay")


def test_an_order_is_baked_through_rabbitmq_and_emailed_once(rabbitmq_stack, product_slug):
    uuids = [
        placed_uuid(place_order(rabbitmq_stack, product_slug, f"Rabbit order {n}"))
        for n in range(3)
    ]

    wait_until_ready(rabbitmq_stack, uuids, timeout=60)

    for uuid in uuids:
        order = shop_order(uuid)
        assert str(order["baker"]).startswith("rabbit-worker/"), order["baker"]
        assert order["attempts"] == 1
        assert len(emails_about(uuid)) == 1
