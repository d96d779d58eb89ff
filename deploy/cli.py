"""`python -m deploy <command>`: argument parsing and exit codes, nothing else."""

from __future__ import annotations

import argparse
import json
import sys

from . import cluster, rollout
from .errors import DeployError
from .paths import Layout
from .status import collect_status, format_table, summary
from .tools import Tools
from .topology import load_topology


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m deploy", description="Run the scaleshop cluster on this machine."
    )
    commands = parser.add_subparsers(dest="command", required=True)
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
        "--release",
        help="release name for the clones (default: the checked-out code, <commit>[-dirty<hash>])",
    )
    down = commands.add_parser("down", help="stop every process; data stays on disk")
    down.add_argument("--purge", action="store_true", help="also delete RUN_DIR and its data")
    commands.add_parser("status", help="table of every component; exit 1 if one is unhealthy")
    commands.add_parser("status-json", help="the same as JSON")
    commands.add_parser("url", help="print the load balancer's URL (for scripts)")
    rollout = commands.add_parser("rollout", help="rolling update of the clones, one at a time")
    rollout.add_argument("--release", help="release name (default: the checked-out code)")
    delay = commands.add_parser(
        "replica-delay", help="set the running replica's apply delay (lag tests)"
    )
    delay.add_argument("seconds", type=float)
    restart = commands.add_parser("restart-clone", help="drain and restart one clone")
    restart.add_argument("name", help="e.g. clone-2")
    for verb in ("stop", "start"):
        one = commands.add_parser(verb, help=f"{verb} one process (fault drills)")
        one.add_argument("name", help="e.g. postgres-replica, redis-broker, worker-1")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit code (0 ok, 1 unhealthy or failed)."""
    args = build_parser().parse_args(argv)
    layout = Layout.discover()
    try:
        if args.command == "up":
            print(f"bringing up the cluster in {layout.run_dir}", flush=True)
            topology = cluster.up(
                layout,
                clones=args.clones,
                release=args.release,
                replica_delay=args.replica_delay,
                workers=args.workers,
            )
            print(summary(topology))
        elif args.command == "down":
            cluster.down(layout, purge=args.purge)
        elif args.command in {"status", "status-json"}:
            status = collect_status(layout, Tools.discover())
            if args.command == "status":
                print(format_table(status))
            else:
                print(json.dumps(status, indent=2))
            return 0 if status["healthy"] else 1
        elif args.command == "url":
            print(load_topology(layout).lb_url)
        elif args.command == "rollout":
            rollout.rollout(layout, release=args.release)
        elif args.command == "replica-delay":
            cluster.set_replica_delay(layout, args.seconds)
        elif args.command == "restart-clone":
            rollout.restart_clone(layout, args.name)
        elif args.command == "stop":
            cluster.stop_program(layout, args.name)
        elif args.command == "start":
            cluster.start_program(layout, args.name)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
