"""Rolling updates: replace clones one at a time with zero failed requests.

For each clone: render it ``down`` in nginx and reload (waiting for the old nginx workers,
and with them every in-flight request to that clone, to finish); restart it with the new
release (gunicorn's SIGTERM is graceful); wait until its own ``/healthz`` reports the new
release; put it back into nginx. The other clones serve all traffic meanwhile, and nginx
retries a refused connection on another clone as a second line of defence.
"""

from __future__ import annotations

from . import nginx
from .errors import ConfigurationError, DeployError, RolloutError
from .health import http_get, wait_until
from .paths import Layout
from .programs import Program, app_env, cluster_programs, write_program_files
from .release import default_release_name, run_release_phase
from .runtime import install_runtime
from .supervisord import Supervisor
from .tools import Tools
from .topology import Topology, load_topology, save_topology


def roll_clone(
    program: Program,
    *,
    layout: Layout,
    topology: Topology,
    tools: Tools,
    supervisor: Supervisor,
) -> None:
    """Restart one clone with its current program file, drained from nginx meanwhile."""
    name = program.name
    nginx_up = _nginx_running(supervisor)
    can_drain = nginx_up and topology.clones > 1
    if nginx_up and not can_drain:
        print(
            f"  warning: {name} is the only clone, so it cannot be drained: requests fail "
            "while it restarts. For a rollout with zero failed requests run two or more "
            "(`python -m deploy up --clones 2`).",
            flush=True,
        )
    if can_drain:
        nginx.write_config(layout, topology, tools, drained=[name])
        nginx.reload_and_wait(supervisor)
    supervisor.replace(name)
    supervisor.start(name)

    def on_new_release() -> bool:
        answer = http_get(f"{topology.clone_url(name)}/healthz")
        return answer.ok and answer.body.get("release") == topology.release

    wait_until(
        on_new_release,
        what=f"{name} on release {topology.release} ({topology.clone_url(name)}/healthz)",
        timeout=program.startup_timeout,
        log=layout.logs / f"{name}.log",
    )
    if nginx_up:
        if nginx.write_config(layout, topology, tools):
            nginx.reload_and_wait(supervisor)
    print(f"  {name}: healthy on {topology.release}", flush=True)


def restart_worker(program: Program, *, layout: Layout, supervisor: Supervisor) -> None:
    """Restart a worker on its current program file. SIGTERM is graceful: running jobs
    finish and prefetched messages go back to the broker for the other workers."""
    supervisor.replace(program.name)
    supervisor.start(program.name)
    wait_until(
        program.probe,
        what=f"{program.name} running",
        timeout=program.startup_timeout,
        log=layout.logs / f"{program.name}.log",
    )
    print(f"  {program.name}: restarted", flush=True)


def _nginx_running(supervisor: Supervisor) -> bool:
    info = supervisor.processes().get("nginx")
    return info is not None and info.state == "RUNNING"


def verify_identical(topology: Topology) -> str:
    """Check every clone reports ``topology.release`` and one settings fingerprint.

    Returns the shared fingerprint; raises RolloutError listing each clone's answer.
    """
    answers = {
        name: http_get(f"{topology.clone_url(name)}/healthz") for name in topology.clone_names
    }
    releases = {a.body.get("release") for a in answers.values()}
    fingerprints = {a.body.get("settings_fingerprint") for a in answers.values()}
    healthy = all(a.ok for a in answers.values())
    if healthy and releases == {topology.release} and len(fingerprints) == 1:
        return str(fingerprints.pop())
    detail = "\n".join(
        f"    {name}: status={a.status} release={a.body.get('release')!r} "
        f"fingerprint={a.body.get('settings_fingerprint')!r} {a.error}"
        for name, a in answers.items()
    )
    raise RolloutError(
        f"clones are not identical (expected release {topology.release!r}, "
        f"one settings fingerprint):\n{detail}"
    )


def rollout(layout: Layout, *, release: str | None = None) -> Topology:
    """Roll every clone to ``release`` (default: a fresh name), then prove they match."""
    tools = Tools.discover(layout)
    supervisor = Supervisor(layout)
    supervisor.require_running()
    previous = load_topology(layout)
    topology = previous.with_overrides(
        clones=None, release=release or default_release_name(layout), replica_delay=None
    )
    print(f"rolling out {topology.release} to {topology.clones} clones", flush=True)
    install_runtime(layout)
    run_release_phase(layout, app_env(topology, layout, "release"))
    save_topology(layout, topology)
    programs = cluster_programs(topology, layout, tools)
    write_program_files(programs, layout)
    supervisor.apply_program_files()
    for program in programs:
        if program.role not in {"clone", "worker"}:
            continue
        try:
            if program.role == "clone":
                roll_clone(
                    program, layout=layout, topology=topology, tools=tools, supervisor=supervisor
                )
            else:
                restart_worker(program, layout=layout, supervisor=supervisor)
        except DeployError as exc:
            raise RolloutError(
                f"{exc}\n\nThe rollout of {topology.release} stopped at {program.name}: "
                f"the programs before it run {topology.release}, the ones after it still run "
                f"{previous.release}, and {program.name} may be down (a clone stays out of "
                "nginx until it is healthy again). See each one with `python -m deploy "
                "status`; after fixing the cause run `python -m deploy rollout` again"
                + (
                    f" (or `python -m deploy restart-clone {program.name}` for this clone)."
                    if program.role == "clone"
                    else "."
                )
            ) from exc
    fingerprint = verify_identical(topology)
    print(
        f"all {topology.clones} clones on {topology.release} (settings {fingerprint})", flush=True
    )
    return topology


def restart_clone(layout: Layout, name: str) -> None:
    """Drain, restart and re-admit one clone (same release)."""
    tools = Tools.discover(layout)
    topology = load_topology(layout)
    supervisor = Supervisor(layout)
    supervisor.require_running()
    programs = {p.name: p for p in cluster_programs(topology, layout, tools) if p.role == "clone"}
    if name not in programs:
        raise ConfigurationError(f"no clone named {name!r}; clones are {sorted(programs)}")
    roll_clone(programs[name], layout=layout, topology=topology, tools=tools, supervisor=supervisor)
