"""Rendered configuration: nginx, supervisor programs, postgres settings, cluster.env."""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import astuple, replace
from pathlib import Path

import pytest

from deploy.credentials import Credentials, ensure_credentials
from deploy.errors import ConfigurationError
from deploy.files import fill_template
from deploy.nginx import render_nginx_conf
from deploy.paths import Layout
from deploy.postgres import PG_HBA, render_ident, render_settings
from deploy.programs import (
    WORKER_STARTSECS,
    Program,
    app_env,
    cluster_programs,
    render_program,
    worker_programs,
    write_program_files,
)
from deploy.redis_servers import render_redis_conf
from deploy.runtime import APP_USER, Runtime, app_runtime
from deploy.tools import Tools
from deploy.topology import DEFAULT_CLONES, Ports, Topology, cluster_env, render_env_file
from tests.deploy.helpers import supervisor_processes


@pytest.fixture
def topology() -> Topology:
    return Topology(ports=Ports(), clones=3, release="abc123-20260101000000")


def test_nginx_balances_over_every_clone(layout: Layout, topology: Topology) -> None:
    conf = render_nginx_conf(layout, topology, as_root=False)
    servers = re.findall(r"server 127\.0\.0\.1:(\d+) max_fails=\d+ fail_timeout=\d+s;", conf)
    assert servers == ["8001", "8002", "8003"]
    assert "listen 127.0.0.1:8000" in conf
    assert "daemon off;" in conf
    assert "proxy_next_upstream error timeout http_502 http_503;" in conf
    assert "non_idempotent" not in conf.replace("`non_idempotent`", "")


def test_nginx_marks_a_drained_clone_down(layout: Layout, topology: Topology) -> None:
    conf = render_nginx_conf(layout, topology, drained=["clone-2"], as_root=False)
    assert "server 127.0.0.1:8002 max_fails=2 fail_timeout=3s down;" in conf
    assert conf.count(" down;") == 1


def test_nginx_keeps_every_path_inside_run_dir(layout: Layout, topology: Topology) -> None:
    conf = render_nginx_conf(layout, topology, as_root=False)
    assert f"alias {layout.static_root}/;" in conf
    assert f"alias {layout.media_root}/;" in conf
    assert f"pid {layout.nginx_dir}/nginx.pid;" in conf
    assert f"root {layout.prerender_root};" in conf
    assert "{{" not in conf


def test_nginx_workers_drop_root(layout: Layout, topology: Topology) -> None:
    assert "user www-data;" in render_nginx_conf(layout, topology, as_root=True)
    assert "user www-data;" not in render_nginx_conf(layout, topology, as_root=False)


def test_prerendered_pages_only_for_plain_gets_of_public_paths(
    layout: Layout, topology: Topology
) -> None:
    conf = render_nginx_conf(layout, topology, as_root=False)
    assert "try_files $prerendered_file @clones;" in conf
    for private in ("admin", "orders", "cart", "healthz"):
        assert re.search(rf"~\^/{private}\S*\s+0;", conf), private
    assert re.search(r'"111"\s+"/current\$uri/index.html";', conf)


def test_template_typos_fail_loudly(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf.tmpl").write_text("listen {{nope}};")
    with pytest.raises(ConfigurationError, match="nginx.conf.tmpl uses unknown {{nope}}"):
        fill_template(tmp_path / "nginx.conf.tmpl", {})


def test_program_renders_command_env_and_graceful_stop(tmp_path: Path) -> None:
    program = Program(
        name="clone-1",
        command=["/venv/bin/gunicorn", "config.wsgi", "--bind", "127.0.0.1:8001"],
        tier="app",
        probe=lambda: True,
        address="http://127.0.0.1:8001",
        port=8001,
        port_variable="SHOP_CLONE_BASE_PORT",
        environment={"SHOP_RELEASE": "r1", "ODD": "with space and 100%"},
        stopwaitsecs=40,
    )
    text = render_program(program, tmp_path)
    assert "[program:clone-1]" in text
    assert "command=/venv/bin/gunicorn config.wsgi --bind 127.0.0.1:8001" in text
    assert 'SHOP_RELEASE="r1"' in text
    assert 'ODD="with space and 100%%"' in text  # supervisor interpolates single %
    assert "stopwaitsecs=40" in text
    assert "autostart=false" in text
    assert f"stdout_logfile={tmp_path / 'clone-1.log'}" in text


def test_app_env_names_the_clone_and_services(
    layout: Layout, topology: Topology, credentials: Credentials
) -> None:
    env = app_env(topology, layout, "clone-2")
    assert env["SHOP_CLONE"] == "clone-2"
    assert "SHOP_RELEASE" not in env  # the release's own RELEASE file names it
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.local"
    assert env["DJANGO_DEBUG"] == "false"
    assert env["DATABASE_URL"] == f"postgres://shop:{credentials.shop}@127.0.0.1:25432/shop"
    assert env["DJANGO_SECRET_KEY"] == credentials.secret_key


def test_cluster_env_file_has_every_address_with_its_password(
    layout: Layout, topology: Topology, credentials: Credentials
) -> None:
    text = render_env_file(cluster_env(topology, layout, credentials))
    lines = dict(line.split("=", 1) for line in text.splitlines() if not line.startswith("#"))
    c = credentials
    assert lines == {
        "DJANGO_SECRET_KEY": c.secret_key,
        "DATABASE_URL": f"postgres://shop:{c.shop}@127.0.0.1:25432/shop",
        "REPLICA_DATABASE_URL": f"postgres://shop:{c.shop}@127.0.0.1:25433/shop",
        "REDIS_URL": f"redis://:{c.redis}@127.0.0.1:26380/0",
        "REDIS_CACHE_URL": f"redis://:{c.redis_cache}@127.0.0.1:26379/0",
        "DRAMATIQ_BROKER_URL": f"redis://:{c.redis_broker}@127.0.0.1:26381/0",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(layout.mail_dir),
        "DJANGO_MEDIA_ROOT": str(layout.media_root),
        "DJANGO_STATIC_ROOT": str(layout.static_root),
        "PRERENDER_ROOT": str(layout.prerender_root),
        "SHOP_LB_URL": "http://127.0.0.1:8000",
        "SHOP_CLONE_URLS": "http://127.0.0.1:8001,http://127.0.0.1:8002,http://127.0.0.1:8003",
        "SHOP_RUN_DIR": str(layout.run_dir),
    }


def test_default_ports_are_never_handed_out_to_outgoing_connections() -> None:
    low, _high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ports = Ports()
    assert max(*astuple(ports), ports.clone_base + DEFAULT_CLONES) < low


def test_ports_move_with_environment_variables() -> None:
    ports = Ports.from_env({"SHOP_LB_PORT": "9000", "SHOP_PG_PORT": "6543"})
    assert (ports.lb, ports.pg_primary, ports.redis) == (9000, 6543, 26380)
    with pytest.raises(ConfigurationError, match="SHOP_REDIS_PORT"):
        Ports.from_env({"SHOP_REDIS_PORT": "http"})


def test_replica_settings_carry_the_apply_delay() -> None:
    assert "recovery_min_apply_delay = '2500ms'" in render_settings("replica", 2.5)
    assert "recovery_min_apply_delay" not in render_settings("primary", 2.5)
    assert "wal_level = replica" in render_settings("primary", 0)


@pytest.mark.usefixtures("credentials")
def test_workers_count_as_started_only_after_booting(layout: Layout, topology: Topology) -> None:
    # A worker that dies at import must fail its start (and end FATAL), not crash-loop
    # behind a successful `up`: startsecs outlasts its measured boot (see programs.py).
    workers = worker_programs(topology, layout)
    assert {p.startsecs for p in workers} == {WORKER_STARTSECS}
    assert WORKER_STARTSECS >= 2 * 2.8
    assert all(p.startup_timeout > p.startsecs for p in workers)
    assert f"startsecs={WORKER_STARTSECS}\n" in render_program(workers[0], layout.logs)


def test_postgres_trusts_no_one_and_takes_passwords_over_tcp() -> None:
    rules = [line.split() for line in PG_HBA.splitlines() if line and not line.startswith("#")]
    assert not any("trust" in rule for rule in rules)
    assert {rule[-1] for rule in rules if rule[0] == "host"} == {"scram-sha-256"}
    # The socket lets in only the server's own OS user, as the superuser.
    assert [rule for rule in rules if rule[0] == "local"] == [
        ["local", "all", "postgres", "peer", "map=owner"]
    ]
    assert render_ident("postgres").splitlines()[-1].split() == ["owner", "postgres", "postgres"]


def test_no_secret_appears_on_any_command_line(
    layout: Layout, topology: Topology, credentials: Credentials
) -> None:
    # `ps` shows every process's command line to every user of the host.
    secrets = astuple(credentials)
    for program in cluster_programs(topology, layout, Tools.discover()):
        command = " ".join(program.command)
        assert not [s for s in secrets if s in command], program.name
    assert render_redis_conf("s3cret").splitlines()[-1] == "requirepass s3cret"


def test_program_files_with_passwords_are_readable_by_their_owner_only(
    layout: Layout, topology: Topology, credentials: Credentials
) -> None:
    programs = cluster_programs(topology, layout, Tools.discover())
    write_program_files(programs, layout)
    modes = {path.name: path.stat().st_mode & 0o777 for path in layout.programs_dir.iterdir()}
    assert modes and set(modes.values()) == {0o600}
    assert credentials.shop in (layout.programs_dir / "clone-1.conf").read_text()


def test_as_root_the_app_tier_runs_as_its_own_user_with_a_venv_in_run_dir(
    layout: Layout,
) -> None:
    as_root = app_runtime(layout, "r1", as_root=True)
    assert as_root.user == APP_USER
    assert as_root.python.is_relative_to(layout.run_dir)
    assert app_runtime(layout, "r1", as_root=False) == Runtime(venv_bin=layout.venv_bin, user=None)


def test_every_app_program_runs_the_code_its_link_points_at(tmp_path: Path) -> None:
    layout = Layout(checkout=Path("/srv/shop"), run_dir=tmp_path)
    ensure_credentials(layout)
    topology = Topology(ports=Ports(), release="r7")
    for program in cluster_programs(topology, layout, Tools.discover()):
        if program.tier != "app":
            continue
        for process in supervisor_processes(program, layout):
            link = layout.running_code(process.name)
            assert process.directory == str(link) or f"cd {link} && " in process.command
            assert str(link) in process.command
            # Never the release itself, nor the checkout: a rollout only moves the link.
            assert "/releases/" not in process.command
            assert "/srv/shop" not in process.command
            assert "SHOP_RELEASE" not in process.environment
            assert process.environment["SHOP_CLONE"] == process.name


@pytest.mark.usefixtures("credentials")
def test_the_workers_are_one_program_each_process_with_its_link_and_metrics_port(
    layout: Layout, topology: Topology
) -> None:
    workers, relay = worker_programs(replace(topology, workers=3), layout)
    assert (workers.name, workers.numprocs, relay.processes) == ("worker", 3, ["outbox-relay"])
    processes = supervisor_processes(workers, layout)
    assert [p.name for p in processes] == ["worker-1", "worker-2", "worker-3"]
    worker_2 = processes[1]
    directory = str(layout.metrics_dir / "worker-2")
    assert worker_2.environment["PROMETHEUS_MULTIPROC_DIR"] == directory
    assert worker_2.environment["dramatiq_prom_db"] == directory
    assert worker_2.stdout_logfile == str(layout.logs / "worker-2.log")
    # The shell in front enters the process's link and sets its port: run it with `env`.
    layout.running_code("worker-2").mkdir(parents=True)
    shell = shlex.split(worker_2.command)[:4]
    env = subprocess.run([*shell, "/usr/bin/env"], capture_output=True, text=True, check=True)
    assert f"dramatiq_prom_port={Ports().clone_base + 51}\n" in env.stdout
    assert f"PWD={layout.running_code('worker-2')}\n" in env.stdout
