"""The job processes as the cluster tool runs and reports them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploy.credentials import ensure_credentials
from deploy.paths import Layout
from deploy.programs import cluster_programs, render_program
from deploy.tools import Tools
from deploy.topology import Ports, Topology, cluster_env
from tests.deploy.helpers import supervisor_processes


def test_status_lists_workers_relay_broker_and_queue_figures(cluster: dict[str, Any]) -> None:
    assert [w["name"] for w in cluster["workers"]] == ["worker-1", "worker-2", "outbox-relay"]
    assert all(w["state"] == "RUNNING" and isinstance(w["pid"], int) for w in cluster["workers"])
    broker_port = cluster["ports"]["redis_broker"]
    assert cluster["services"]["redis_broker"]["url"].endswith(f"@127.0.0.1:{broker_port}/0")
    assert cluster["services"]["redis_broker"]["healthy"] is True
    jobs = cluster["jobs"]
    assert jobs["broker"]["ok"] is True and jobs["broker"]["kind"] == "redis"
    assert "unsent" in jobs["outbox"]


def test_workers_run_the_release_with_the_clones_environment(tmp_path: Path) -> None:
    layout = Layout(checkout=Path("/srv/shop"), run_dir=tmp_path)
    credentials = ensure_credentials(layout)
    topology = Topology(ports=Ports(), release="r7")
    programs = {p.name: p for p in cluster_programs(topology, layout, Tools.discover())}

    # The Dramatiq workers: one program of processes worker-1, worker-2 (tests/deploy).
    worker, relay = programs["worker"], programs["outbox-relay"]
    [worker_1, _], [relay_process] = (supervisor_processes(p, layout) for p in (worker, relay))

    for program, process in ((worker, worker_1), (relay, relay_process)):
        assert (program.tier, program.role, program.port) == ("app", "worker", None)
        assert str(layout.running_code(process.name)) in process.command
        assert process.environment["SHOP_CLONE"] == process.name
        broker_url = f"redis://:{credentials.redis_broker}@127.0.0.1:{Ports().redis_broker}/0"
        assert process.environment["DRAMATIQ_BROKER_URL"] == broker_url
        # Longer than the actors' time_limit: a stop lets running jobs finish.
        assert program.stopwaitsecs > 60
    assert "manage.py run_worker" in render_program(worker, tmp_path)  # then rundramatiq
    # Each worker's metrics: its own directory, in Dramatiq's variables too.
    metrics_dir = str(tmp_path / "metrics" / "worker-1")
    assert worker_1.environment["PROMETHEUS_MULTIPROC_DIR"] == metrics_dir
    assert worker_1.environment["dramatiq_prom_db"] == metrics_dir
    assert worker_1.environment["dramatiq_prom_host"] == "127.0.0.1"
    assert f"dramatiq_prom_port=$(({Ports().clone_base + 49} + 1))" in worker_1.command
    assert "dramatiq_prom_port" not in relay_process.environment
    assert programs["clone-1"].environment["PROMETHEUS_MULTIPROC_DIR"] == str(
        tmp_path / "metrics" / "clone-1"
    )
    assert "manage.py outbox_relay" in render_program(relay, tmp_path)
    env = cluster_env(topology, layout, credentials)
    assert env["DJANGO_EMAIL_FILE_PATH"] == str(tmp_path / "mail")
    assert "redis-broker" in programs and programs["redis-broker"].tier == "data"
