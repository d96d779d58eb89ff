"""Ports are chosen at `up` and saved, so later commands find the cluster where it runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

from deploy.paths import Layout
from deploy.topology import (
    Ports,
    Topology,
    ignored_port_variables,
    load_topology,
    save_topology,
)
from tests.deploy.helpers import deploy_cli


def test_later_commands_use_the_ports_saved_at_up(layout: Layout) -> None:
    save_topology(layout, Topology(ports=Ports(lb=9000, pg_primary=6000), release="r1"))
    # A plain `status` or `rollout`: no SHOP_*_PORT set.
    assert load_topology(layout, {}).ports == Ports(lb=9000, pg_primary=6000)
    assert load_topology(layout, {}).lb_url == "http://127.0.0.1:9000"


def test_a_port_variable_outside_up_is_ignored_and_named(layout: Layout) -> None:
    save_topology(layout, Topology(ports=Ports(lb=9000)))
    environ = {"SHOP_LB_PORT": "9100", "SHOP_PG_PORT": str(Ports().pg_primary)}
    topology = load_topology(layout, environ)
    assert topology.ports.lb == 9000
    assert ignored_port_variables(topology, environ) == [
        "SHOP_LB_PORT=9100 ignored: the cluster in this RUN_DIR uses 9000 "
        "(ports change only at `up`)"
    ]


def test_up_applies_port_variables_over_the_saved_ports() -> None:
    saved = Ports(lb=9000)
    wanted = Ports.from_env({"SHOP_PG_PORT": "6000"}, base=saved)
    assert (wanted.lb, wanted.pg_primary) == (9000, 6000)
    assert saved.changes(wanted) == ["SHOP_PG_PORT 25432 -> 6000"]
    assert saved.changes(saved) == []


def test_a_state_file_from_before_ports_were_saved_reads_them_from_the_environment(
    layout: Layout,
) -> None:
    (layout.run_dir / "cluster.json").write_text(json.dumps({"clones": 2, "release": "old"}))
    topology = load_topology(layout, {"SHOP_LB_PORT": "9000"})
    assert (topology.ports.lb, topology.clones, topology.release) == (9000, 2, "old")


def test_the_running_cluster_reports_its_saved_ports(cluster: dict[str, object]) -> None:
    saved = json.loads((Path(str(cluster["run_dir"])) / "cluster.json").read_text())["ports"]
    assert cluster["ports"] == saved
    assert cluster["lb"] == f"http://127.0.0.1:{saved['lb']}"


def test_status_with_another_port_variable_still_finds_the_cluster(
    cluster: dict[str, object],
) -> None:
    lb_port = int(str(cluster["lb"]).rsplit(":", 1)[1])
    done = deploy_cli("url", env={**os.environ, "SHOP_LB_PORT": str(lb_port + 1)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == cluster["lb"]
    assert f"SHOP_LB_PORT={lb_port + 1} ignored" in done.stderr
