"""`make hosts-test`: deploy/ansible/site.yml against network-namespace hosts, then checks.

python -m deploy.hosts test [--keep]
python -m deploy.hosts play PLAYBOOK [ARGS] | check | down   (a lab left by --keep)
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from ..errors import DeployError
from ..proc import run
from .lab import ANSIBLE_DIR, DEFAULT_ROOT, Lab


def playbook(lab: Lab, name: str, *extra: str) -> None:
    """Run deploy/ansible/<name> against the lab's inventory; its output streams through."""
    started = time.monotonic()
    print(f"== ansible-playbook {name} {' '.join(extra)}", flush=True)
    output = run(
        [str(Path(sys.executable).parent / "ansible-playbook"), str(ANSIBLE_DIR / name), *extra],
        what=f"ansible-playbook {name}",
        cwd=ANSIBLE_DIR,
        env=lab.ansible_env(),
        timeout=900,
    )
    recap = output[output.rfind("PLAY RECAP") :] if "PLAY RECAP" in output else output[-2000:]
    print(recap.rstrip(), f"\n   ({time.monotonic() - started:.0f} s)", flush=True)


def test(keep: bool) -> int:
    from . import checks

    lab = Lab()
    # A CI job's timeout sends SIGTERM: exit through `finally`, which tears down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    failed = True
    try:
        lab.setup()
        print("Hosts (network namespaces on bridge br16):")
        for host in lab.hosts:
            print(f"  {host.name:8} {host.address:12} {host.namespace:14} {', '.join(host.groups)}")
        playbook(lab, "site.yml")
        checks.run_all(lab, playbook)
        failed = False
    except DeployError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
    finally:
        if not lab.made:
            pass  # nothing made by this run (e.g. a lab already there): nothing to remove
        elif keep:
            print(
                f"--keep: the lab stays up ({DEFAULT_ROOT}); remove it: python -m deploy.hosts down"
            )
        else:
            problems = lab.teardown()
            for problem in problems:
                print(f"teardown: {problem}", file=sys.stderr)
            failed = failed or bool(problems)
            print("Torn down: namespaces, bridge, processes and files." if not problems else "")
    print(f"hosts-test {'FAILED' if failed else 'passed'} in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.hosts")
    commands = parser.add_subparsers(dest="command", required=True)
    run_test = commands.add_parser("test", help="make the hosts, deploy, check, tear down")
    run_test.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    commands.add_parser("down", help="tear down a lab left by --keep")
    play = commands.add_parser("play", help="run a playbook against a lab left by --keep")
    play.add_argument("playbook")
    play.add_argument("extra", nargs="*", help="more ansible-playbook arguments")
    commands.add_parser("check", help="run the checks against a lab left by --keep")
    args = parser.parse_args(argv)
    if args.command == "play":
        playbook(Lab(), args.playbook, *args.extra)
        return 0
    if args.command == "check":
        from . import checks

        checks.run_all(Lab(), playbook)
        return 0
    if args.command == "down":
        problems = Lab().teardown()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    return test(args.keep)


if __name__ == "__main__":
    sys.exit(main())
