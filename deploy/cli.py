"""`python -m deploy <command>`: argument parsing and exit codes, nothing else."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from . import cluster, rollout
from .errors import DeployError
from .handover import hand_over
from .lock import exclusive
from .paths import Layout, prepare_run_dir
from .status import collect_status, format_table, summary
from .supervisord import Supervisor
from .tools import Tools
from .topology import ignored_port_variables, load_topology


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m deploy", description="Run the scaleshop cluster on this machine."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _cluster_commands(commands)
    _release_and_process_commands(commands)
    return parser


def _cluster_commands(commands: Any) -> None:
    up = commands.add_parser("up", help="start (or converge) the cluster; idempotent")
    up.add_argument("--clones", type=int, help="number of gunicorn clones (default 3)")
    up.add_argument("--workers", type=int, help="number of Dramatiq worker programs (default 2)")
    up.add_argument(
        "--replica-delay",
        type=float,
        metavar="SECONDS",
        help="recovery_min_apply_delay of the replica (default 0)",
    )
    up.add_argument(
        "--mongo",
        action=argparse.BooleanOptionalAction,
        help="the catalog's Mongo read model and a local server for it (default: as before)",
    )
    up.add_argument(
        "--release",
        help="release name for the clones (default: the checked-out code, <commit>[-dirty<hash>])",
    )
    down = commands.add_parser("down", help="stop every process; data stays on disk")
    down.add_argument("--purge", action="store_true", help="also delete RUN_DIR and its data")
    for verb, text in (
        ("status", "table of every component; exit 1 if one is unhealthy"),
        ("status-json", "the same as JSON"),
    ):
        status = commands.add_parser(verb, help=text)
        status.add_argument(
            "--wait",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="first wait up to SECONDS for every component to be healthy",
        )
    manage = commands.add_parser(
        "manage",
        help="run a manage.py command as the app tier does (its user, code and settings)",
    )
    manage.add_argument("arguments", nargs=argparse.REMAINDER, help="e.g. seed_catalog")
    commands.add_parser("url", help="print the load balancer's URL (for scripts)")
    commands.add_parser(
        "run-dir", help="print RUN_DIR, where the cluster's files are (for scripts)"
    )


def _release_and_process_commands(commands: Any) -> None:
    rollout = commands.add_parser("rollout", help="rolling update of the clones, one at a time")
    rollout.add_argument("--release", help="release name (default: the checked-out code)")
    commands.add_parser(
        "rollback", help="rolling update back to the release deployed before the current one"
    )
    delay = commands.add_parser(
        "replica-delay", help="set the running replica's apply delay (lag tests)"
    )
    delay.add_argument("seconds", type=float)
    handover = commands.add_parser(
        "hand-over",
        help="replace a running clone's gunicorn workers by ones loaded from its link's "
        "release (deploy/ansible's rollout runs it on each app host)",
    )
    handover.add_argument("name", help="e.g. clone-2")
    restart = commands.add_parser("restart-clone", help="drain and restart one clone")
    restart.add_argument("name", help="e.g. clone-2")
    for verb in ("stop", "start"):
        one = commands.add_parser(verb, help=f"{verb} one process (fault drills)")
        one.add_argument("name", help="e.g. postgres-replica, redis-broker, worker-1")


# Commands that change the cluster: one at a time (deploy/lock.py).
MUTATING = {"up", "down", "rollout", "replica-delay", "restart-clone", "hand-over", "stop", "start"}


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit code (0 ok, 1 unhealthy or failed)."""
    args = build_parser().parse_args(argv)
    # Files and directories we create must be readable by nginx's workers and the
    # postgres user whatever the caller's umask (077 would give www-data a 403).
    os.umask(0o022)
    try:
        layout = Layout.discover()
        if args.command == "up":
            prepare_run_dir(layout.run_dir)  # the lock lives in it
        else:  # SHOP_*_PORT apply at `up` only
            for note in ignored_port_variables(load_topology(layout), os.environ):
                print(f"note: {note}", file=sys.stderr)
        if args.command not in MUTATING:
            return _run(args, layout)
        command = " ".join(["deploy", *(sys.argv[1:] if argv is None else argv)])
        with exclusive(layout, command):
            return _run(args, layout)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, layout: Layout) -> int:
    if args.command == "up":
        print(f"bringing up the cluster in {layout.run_dir}", flush=True)
        topology = cluster.up(
            layout,
            clones=args.clones,
            release=args.release,
            replica_delay=args.replica_delay,
            workers=args.workers,
            mongo=args.mongo,
        )
        print(summary(topology))
    elif args.command == "down":
        cluster.down(layout, purge=args.purge)
    elif args.command in {"status", "status-json"}:
        return _status(layout, as_json=args.command == "status-json", wait=args.wait)
    elif args.command == "manage":
        return cluster.manage(layout, args.arguments)
    elif args.command == "url":
        print(load_topology(layout).lb_url)
    elif args.command == "run-dir":
        print(layout.run_dir)
    elif args.command == "rollout":
        rollout.rollout(layout, release=args.release)
    elif args.command == "rollback":
        rollout.rollback(layout)
    elif args.command == "replica-delay":
        cluster.set_replica_delay(layout, args.seconds)
    elif args.command == "hand-over":
        hand_over(Supervisor(layout), args.name, log=layout.logs / f"{args.name}.log", timeout=120)
    elif args.command == "restart-clone":
        rollout.restart_clone(layout, args.name)
    elif args.command == "stop":
        cluster.stop_program(layout, args.name)
    elif args.command == "start":
        cluster.start_program(layout, args.name)
    return 0


def _status(layout: Layout, *, as_json: bool, wait: float) -> int:
    """Print the status; with ``wait``, first poll up to that many seconds for all healthy
    (e.g. a process supervisor is restarting, or a clone still booting)."""
    tools = Tools.discover(layout)
    deadline = time.monotonic() + wait
    status = collect_status(layout, tools)
    while not status["healthy"] and time.monotonic() < deadline:
        time.sleep(1)
        status = collect_status(layout, tools)
    print(json.dumps(status, indent=2) if as_json else format_table(status))
    return 0 if status["healthy"] else 1
