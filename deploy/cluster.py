"""Bringing the cluster up (converging: only what is missing or changed) and down."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

from . import nginx, postgres
from .credentials import Credentials, ensure_credentials
from .errors import ConfigurationError
from .files import write_if_changed
from .health import port_taken, wait_until
from .mongo import ensure_mongo_user, write_config_file
from .paths import MARKER, Layout, link_checkout_run, prepare_run_dir
from .proc import AS_ROOT, run, run_attached
from .programs import TIERS, Program, app_env, cluster_programs, write_program_files
from .redis_servers import write_redis_confs
from .release import default_release_name, run_release_phase
from .releases import link_program, linked_release, record_release
from .rollout import replace_on_release, roll_clone, verify_identical
from .runtime import app_runtime, give_to_app_user, install_release, prune_venvs
from .supervisord import Supervisor, is_running, is_stopped
from .tools import Tools
from .topology import (
    HOST,
    Ports,
    Topology,
    cluster_env,
    load_topology,
    render_env_file,
    save_topology,
)


def _prepare_dirs(layout: Layout) -> None:
    prepare_run_dir(layout.run_dir)
    note = link_checkout_run(layout.checkout, layout.run_dir, explicit=layout.explicit)
    if note:
        print(f"  note: {note}", flush=True)
    for path in (layout.programs_dir, layout.nginx_dir):
        path.mkdir(mode=0o755, parents=True, exist_ok=True)
    # Customer data is nobody else's: logs name orders' addresses, mail holds whole orders
    # (Redis's sessions and jobs: `write_redis_confs`); media (pictures baked with a
    # customer's writing) is open to nginx's workers only.
    layout.logs.mkdir(mode=0o700, exist_ok=True)
    layout.logs.chmod(0o700)
    give_to_app_user(layout.mail_dir, mode=0o700)
    give_to_app_user(layout.metrics_dir, mode=0o700)
    give_to_app_user(layout.media_root, mode=0o2750, group=nginx.WORKER_USER if AS_ROOT else None)
    for public in (layout.static_root, layout.prerender_root):
        give_to_app_user(public, mode=0o755)
    postgres.prepare_dirs(layout)


def _requested_ports(layout: Layout, saved: Topology, supervisor: Supervisor) -> Ports:
    """The saved ports with any ``SHOP_*_PORT`` variables applied.

    Moving a running cluster would strand its clients (and the replica) on the old ports,
    so that is refused; a stopped cluster moves.
    """
    ports = Ports.from_env(os.environ, base=saved.ports)
    changes = saved.ports.changes(ports)
    if changes and supervisor.answers():
        raise ConfigurationError(
            f"the cluster in {layout.run_dir} is running on other ports ({'; '.join(changes)}); "
            "stop it with `python -m deploy down` first, or unset those variables"
        )
    if changes:
        print(f"  moving ports: {'; '.join(changes)}", flush=True)
    return ports


def _start_and_wait(supervisor: Supervisor, layout: Layout, programs: list[Program]) -> None:
    """Start ``programs`` together, then wait for each one's probe (bounded).

    A stopped program whose port is already taken (the machine's own services use the
    standard ports) fails at once with the variable that moves it.
    """
    processes = supervisor.processes()
    for program in programs:
        stopped = is_stopped(processes.get(program.name))
        if stopped and program.port is not None and port_taken(HOST, program.port):
            raise ConfigurationError(
                f"{program.name} needs port {program.port}, but another process listens there; "
                f"stop it, or move {program.name} by setting {program.port_variable}"
            )
    for program in programs:
        supervisor.start(program.name)
    for program in programs:
        wait_until(
            program.probe,
            what=f"{program.name} ({program.address})",
            timeout=program.startup_timeout,
            log=layout.logs / f"{program.name}.log",
        )


def up(
    layout: Layout,
    *,
    clones: int | None = None,
    release: str | None = None,
    replica_delay: float | None = None,
    workers: int | None = None,
    mongo: bool | None = None,
) -> Topology:
    """Converge the local cluster to the requested shape and return it.

    Omitted options keep the previous `up`'s values, except the release: it names the
    checkout's code, so clones on older code roll onto it. Raises DeployError subclasses.
    """
    started = time.monotonic()
    tools = Tools.discover(layout)
    supervisor = Supervisor(layout)
    saved = load_topology(layout)
    ports = _requested_ports(layout, saved, supervisor)
    _prepare_dirs(layout)
    topology = saved.with_overrides(
        clones=clones,
        release=release or default_release_name(layout),
        replica_delay=replica_delay,
        workers=workers,
        ports=ports,
        mongo=mongo,
    )
    save_topology(layout, topology)
    credentials = ensure_credentials(layout)
    write_if_changed(
        layout.cluster_env, render_env_file(cluster_env(topology, layout, credentials)), 0o600
    )
    write_redis_confs(layout, credentials)
    install_release(layout, topology.release)
    postgres.init_primary(layout, tools)
    if supervisor.ensure_running():
        print(f"  supervisord started ({layout.supervisord_conf})", flush=True)
    _converge(layout, topology, tools, supervisor, credentials)
    verify_identical(topology)
    prune_venvs(layout, record_release(layout, topology.release))
    print(f"  up in {time.monotonic() - started:.1f}s", flush=True)
    return topology


def _converge(
    layout: Layout,
    topology: Topology,
    tools: Tools,
    supervisor: Supervisor,
    credentials: Credentials,
) -> None:
    """Apply the program files, then bring each tier to them in order."""
    primary_changed = postgres.write_settings(layout, "primary", 0)
    programs = cluster_programs(topology, layout, tools)
    by_tier = {tier: [p for p in programs if p.tier == tier] for tier in TIERS}
    _route_only_to_running_clones(layout, topology, tools, supervisor)
    write_program_files(programs, layout)
    _added, changed, _removed = supervisor.apply_program_files()
    wanted = {name for program in programs for name in program.processes}
    for link in layout.running_dir.glob("*"):  # scaled down: its release may be pruned
        if link.name not in wanted:
            link.unlink()
    for program in by_tier["data"] + by_tier["replica"]:
        if program.name in changed:
            supervisor.replace(program.name)
    running = {name for name, info in supervisor.processes().items() if is_running(info)}
    if topology.mongo:
        _prepare_mongo(layout, topology, supervisor, credentials.mongo)
    _start_and_wait(supervisor, layout, by_tier["data"])
    if primary_changed and "postgres-primary" in running:
        postgres.reload_settings(supervisor, tools, "primary", topology.ports.pg_primary)
    postgres.ensure_database(layout, tools, topology, credentials)
    if postgres.init_replica(layout, tools, topology, credentials):
        print("  replica created with pg_basebackup", flush=True)
    replica_changed = postgres.write_settings(layout, "replica", topology.replica_delay)
    _start_and_wait(supervisor, layout, by_tier["replica"])
    if replica_changed and "postgres-replica" in running:
        postgres.reload_settings(supervisor, tools, "replica", topology.ports.pg_replica)
    app = by_tier["app"]
    clones = [p for p in app if p.role == "clone"]
    _converge_clones(layout, topology, tools, supervisor, clones, changed)
    workers = [p for p in app if p.role == "worker"]
    _converge_workers(supervisor, layout, topology, workers, changed)
    nginx_changed = nginx.write_config(layout, topology, tools)
    if "nginx" in changed:
        supervisor.replace("nginx")  # a new command line needs a restart, not a reload
    if not supervisor.running("nginx"):
        _start_and_wait(supervisor, layout, by_tier["edge"])
    elif nginx_changed:
        nginx.reload_and_wait(supervisor)


def _prepare_mongo(
    layout: Layout, topology: Topology, supervisor: Supervisor, password: str
) -> None:
    """The read model's server: its directory, and its user before its first start."""
    write_config_file(layout)
    give_to_app_user(layout.mongo_dir, mode=0o700)
    if is_stopped(supervisor.processes().get("mongo")):
        runtime = app_runtime(layout, topology.release)
        if ensure_mongo_user(layout, runtime, topology.ports.mongo, password):
            print("  mongo: the app's user created", flush=True)


def _route_only_to_running_clones(
    layout: Layout, topology: Topology, tools: Tools, supervisor: Supervisor
) -> None:
    """Before clones are added or removed, point a running nginx at running clones only:
    on a scale-down this drains the clones about to stop, cutting none of their requests."""
    processes = supervisor.processes()
    if not is_running(processes.get("nginx")):
        return
    idle = [name for name in topology.clone_names if not is_running(processes.get(name))]
    if nginx.write_config(layout, topology, tools, drained=idle):
        nginx.reload_and_wait(supervisor)


def _converge_clones(
    layout: Layout,
    topology: Topology,
    tools: Tools,
    supervisor: Supervisor,
    clones: list[Program],
    changed: list[str],
) -> None:
    """Start missing clones; roll running ones onto the release, or restart them when
    their program changed. The release phase runs first whenever any clone has to start
    or move, so no clone of a release ever serves against an unmigrated database."""
    processes = supervisor.processes()
    up = [p for p in clones if not is_stopped(processes.get(p.name))]
    to_start = [p for p in clones if p not in up]
    to_roll = [
        p for p in up if p.name in changed or linked_release(layout, p.name) != topology.release
    ]
    unhealthy = [p for p in up if p not in to_roll and not p.probe()]
    if not (to_start or to_roll or unhealthy):
        return
    run_release_phase(layout, topology.release, app_env(topology, layout, "release"))
    for program in to_start:
        link_program(layout, program.name, topology.release)
        if program.name in changed:
            supervisor.replace(program.name)
    _start_and_wait(supervisor, layout, to_start + unhealthy)
    for program in to_roll:
        roll_clone(program, layout, topology, tools, supervisor, program.name in changed)


def _converge_workers(
    supervisor: Supervisor,
    layout: Layout,
    topology: Topology,
    workers: list[Program],
    changed: list[str],
) -> None:
    """Start stopped workers; restart those on another release or with a changed program.

    After the clones, so the release phase has migrated the database. A restart is
    SIGTERM: Dramatiq finishes running jobs and returns prefetched messages to the broker.
    """
    for program in workers:
        if program.name in changed:
            replace_on_release(supervisor, layout, program, topology.release)
            continue
        for name in program.processes:
            if linked_release(layout, name) != topology.release:
                supervisor.stop(name)  # left stopped: started with the others below
                link_program(layout, name, topology.release)
    _start_and_wait(supervisor, layout, workers)


def down(layout: Layout, *, purge: bool = False) -> None:
    """Stop every process of the cluster; with ``purge`` also delete RUN_DIR's data."""
    supervisor = Supervisor(layout)
    if supervisor.shutdown():
        print("  all processes stopped", flush=True)
    else:
        print(f"  nothing running for {layout.run_dir}", flush=True)
    if not purge:
        return
    if layout.run_dir.exists():
        if not (layout.run_dir / MARKER).exists():
            raise ConfigurationError(
                f"refusing to delete {layout.run_dir}: it has no {MARKER} marker, so it "
                "may not be a cluster directory"
            )
        shutil.rmtree(layout.run_dir)
        print(f"  removed {layout.run_dir}", flush=True)
    link = layout.checkout / ".run"
    if link.is_symlink():
        link.unlink()


def set_replica_delay(layout: Layout, seconds: float) -> None:
    """Change the replica's apply delay on the running cluster, keeping its connections."""
    tools = Tools.discover(layout)
    supervisor = Supervisor(layout)
    supervisor.require_running()
    topology = load_topology(layout).with_overrides(
        clones=None, release=None, replica_delay=seconds
    )
    save_topology(layout, topology)
    if postgres.write_settings(layout, "replica", seconds):
        postgres.reload_settings(supervisor, tools, "replica", topology.ports.pg_replica)
    print(f"  replica apply delay is {seconds:g}s", flush=True)


def manage(layout: Layout, arguments: list[str]) -> int:
    """Run ``manage.py <arguments>`` against the running cluster as a clone would run it,
    so files it writes (e.g. the demo pictures) belong to the app user."""
    command, code, env, user = _manage_command(layout, arguments, {})
    return run_attached(command, cwd=code, env=env, as_user=user)


def manage_output(
    layout: Layout,
    arguments: list[str],
    *,
    env_overrides: dict[str, str] | None = None,
    timeout: float = 600.0,
) -> str:
    """``manage.py <arguments>`` as `manage` runs it, its output captured; CommandError
    when it fails. ``env_overrides`` replace variables of the app tier's environment."""
    command, code, env, user = _manage_command(layout, arguments, env_overrides or {})
    return run(
        command, what=f"manage.py {arguments[0]}", cwd=code, env=env, as_user=user, timeout=timeout
    )


def _manage_command(
    layout: Layout, arguments: list[str], env_overrides: dict[str, str]
) -> tuple[list[str | Path], Path, dict[str, str], str | None]:
    """The command, folder, environment and user of ``manage.py <arguments>`` in the
    current release, as its app processes run."""
    topology = load_topology(layout)
    runtime = app_runtime(layout, topology.release)
    env = {**os.environ, **app_env(topology, layout, "manage"), **env_overrides}
    code = layout.release_dir(topology.release)
    return [*runtime.manage(code), *arguments], code, env, runtime.user


def _program(layout: Layout, name: str) -> tuple[Supervisor, Program]:
    """Program ``name``, or one process of a program of several (e.g. ``worker-1``)."""
    supervisor = Supervisor(layout)
    supervisor.require_running()
    programs = {}
    for program in cluster_programs(load_topology(layout), layout, Tools.discover(layout)):
        programs[program.name] = program
        for process in program.processes if program.numprocs > 1 else []:
            probe = partial(supervisor.running, process)
            programs[process] = replace(program, name=process, numprocs=1, probe=probe)
    if name not in programs:
        raise ConfigurationError(f"no program {name!r}; the cluster has: {', '.join(programs)}")
    return supervisor, programs[name]


def stop_program(layout: Layout, name: str) -> None:
    """Stop one process (a fault drill: e.g. ``postgres-replica`` or ``redis-cache``)."""
    supervisor, program = _program(layout, name)
    supervisor.stop(program.name)
    print(f"  {program.name} stopped", flush=True)


def start_program(layout: Layout, name: str) -> None:
    """Start one stopped process again and wait until it is healthy."""
    supervisor, program = _program(layout, name)
    _start_and_wait(supervisor, layout, [program])
    print(f"  {program.name} running", flush=True)
