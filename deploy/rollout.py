"""Rolling updates with zero failed requests: a clone's link moves to the release and its
gunicorn hands over to new workers; a changed program is drained from nginx and restarted.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from . import nginx
from .errors import ConfigurationError, DeployError, RolloutError
from .handover import hand_over
from .health import http_get, wait_until
from .paths import Layout
from .programs import Program, all_running, app_env, cluster_programs, write_program_files
from .release import default_release_name, run_release_phase
from .releases import link_program, linked_release, previous_release, record_release
from .runtime import install_release, prune_venvs
from .supervisord import Supervisor
from .tools import Tools
from .topology import Topology, load_topology, save_topology


def roll_clone(
    program: Program,
    layout: Layout,
    topology: Topology,
    tools: Tools,
    supervisor: Supervisor,
    restart: bool = False,
) -> None:
    """Move one running clone onto ``topology.release``: reload it, or with ``restart``
    (its program file changed) drain it from nginx and restart it."""
    name = program.name
    log = layout.logs / f"{name}.log"
    running = supervisor.running(name)
    if restart or not running or _gunicorn_config_differs(layout, name, topology.release):
        _restart_clone(program, layout, topology, tools, supervisor)
    else:
        link_program(layout, name, topology.release)
        hand_over(supervisor, name, log=log, timeout=program.startup_timeout)

    def on_new_release() -> bool:
        answer = http_get(f"{topology.clone_url(name)}/healthz")
        return answer.ok and answer.body.get("release") == topology.release

    wait_until(
        on_new_release,
        what=f"{name} on release {topology.release} ({topology.clone_url(name)}/healthz)",
        timeout=program.startup_timeout,
        log=log,
    )
    if nginx.write_config(layout, topology, tools) and supervisor.running("nginx"):
        nginx.reload_and_wait(supervisor)
    print(f"  {name}: healthy on {topology.release}", flush=True)


def _gunicorn_config_differs(layout: Layout, name: str, release: str) -> bool:
    """True unless the clone's current release has ``release``'s gunicorn.conf.py, which a
    hand-over does not read again."""
    config = Path("deploy") / "gunicorn.conf.py"
    current = linked_release(layout, name)
    if current is None:
        return True
    try:
        old = (layout.release_dir(current) / config).read_bytes()
    except OSError:
        return True
    return old != (layout.release_dir(release) / config).read_bytes()


def _restart_clone(
    program: Program, layout: Layout, topology: Topology, tools: Tools, supervisor: Supervisor
) -> None:
    """Drain ``program`` from nginx (when others can serve), restart it on the release."""
    name = program.name
    nginx_up = supervisor.running("nginx")
    if nginx_up and topology.clones == 1:
        print(
            f"  warning: {name} is the only clone, so it cannot be drained: requests fail "
            "while it restarts. For a rollout with zero failed requests run two or more "
            "(`python -m deploy up --clones 2`).",
            flush=True,
        )
    elif nginx_up:
        nginx.write_config(layout, topology, tools, drained=[name])
        nginx.reload_and_wait(supervisor)
    replace_on_release(supervisor, layout, program, topology.release)
    supervisor.start(name)


def replace_on_release(
    supervisor: Supervisor, layout: Layout, program: Program, release: str
) -> None:
    """Stop ``program``, point its processes' links at ``release``, load its program file
    (left stopped). The links move once it has stopped: it never imports the next release."""
    supervisor.stop(program.name)
    for name in program.processes:
        link_program(layout, name, release)
    supervisor.replace(program.name)


def restart_worker(
    program: Program, layout: Layout, supervisor: Supervisor, release: str, changed: bool
) -> None:
    """Restart a background program on ``release``: one process at a time, or all together
    when its program file changed. SIGTERM is graceful: running jobs finish and prefetched
    messages go back to the broker for the other workers."""
    if changed:
        replace_on_release(supervisor, layout, program, release)
        _start_worker(supervisor, layout, program, program.name, program.processes)
        return
    for name in program.processes:
        supervisor.stop(name)
        link_program(layout, name, release)
        _start_worker(supervisor, layout, program, name, [name])


def _start_worker(
    supervisor: Supervisor, layout: Layout, program: Program, name: str, processes: list[str]
) -> None:
    supervisor.start(name)
    wait_until(
        partial(all_running, layout, processes),
        what=f"{name} running",
        timeout=program.startup_timeout,
        log=layout.logs / f"{processes[0]}.log",
    )
    print(f"  {name}: restarted", flush=True)


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
    install_release(layout, topology.release)
    run_release_phase(layout, topology.release, app_env(topology, layout, "release"))
    save_topology(layout, topology)
    programs = cluster_programs(topology, layout, tools)
    write_program_files(programs, layout)
    _added, changed, _removed = supervisor.apply_program_files()
    for program in programs:
        try:
            if program.role == "clone":
                roll_clone(program, layout, topology, tools, supervisor, program.name in changed)
            elif program.role == "worker":
                moved = program.name in changed
                restart_worker(program, layout, supervisor, topology.release, moved)
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
    prune_venvs(layout, record_release(layout, topology.release))
    print(
        f"all {topology.clones} clones on {topology.release} (settings {fingerprint})", flush=True
    )
    return topology


def rollback(layout: Layout) -> Topology:
    """Roll every clone and worker back to the release deployed before the current one."""
    return rollout(layout, release=previous_release(layout, load_topology(layout).release))


def restart_clone(layout: Layout, name: str) -> None:
    """Drain, restart and re-admit one clone (same release, a new gunicorn master)."""
    tools = Tools.discover(layout)
    topology = load_topology(layout)
    supervisor = Supervisor(layout)
    supervisor.require_running()
    programs = {p.name: p for p in cluster_programs(topology, layout, tools) if p.role == "clone"}
    if name not in programs:
        raise ConfigurationError(f"no clone named {name!r}; clones are {sorted(programs)}")
    roll_clone(programs[name], layout, topology, tools, supervisor, restart=True)
