"""`up --mongo`: the read model's local server as a program, and the clones' settings."""

from __future__ import annotations

from dataclasses import astuple, replace

from deploy.credentials import Credentials
from deploy.paths import Layout
from deploy.programs import cluster_programs
from deploy.tools import Tools
from deploy.topology import Ports, Topology, cluster_env


def test_mongo_is_a_loopback_program_with_auth_only_when_switched_on(
    layout: Layout, credentials: Credentials
) -> None:
    off = Topology(ports=Ports(mongo=28999))
    on = replace(off, mongo=True)

    assert "mongo" not in {p.name for p in cluster_programs(off, layout, Tools.discover())}
    (mongo,) = [p for p in cluster_programs(on, layout, Tools.discover()) if p.name == "mongo"]
    command = mongo.command
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("--port") + 1] == "28999"
    assert "--auth" in command and "--config" in command
    assert mongo.tier == "data" and mongo.port_variable == "SHOP_MONGO_PORT"
    assert not [s for s in astuple(credentials) if s in " ".join(command)]


def test_clones_read_the_mongo_model_only_when_switched_on(
    layout: Layout, credentials: Credentials
) -> None:
    off = Topology(ports=Ports(mongo=28999))

    assert "CATALOG_READ_MODEL" not in cluster_env(off, layout, credentials)
    env = cluster_env(replace(off, mongo=True), layout, credentials)
    assert env["CATALOG_READ_MODEL"] == "mongo"
    assert env["MONGO_URL"] == f"mongodb://shop:{credentials.mongo}@127.0.0.1:28999/scaleshop"


def test_saved_mongo_port_comes_from_its_variable() -> None:
    assert Ports.from_env({"SHOP_MONGO_PORT": "28017"}).mongo == 28017
    assert Ports().mongo < 32768
