"""Running external commands: the one place that starts subprocesses, each an argument list
with an absolute executable path (no shell: the reviewed ``# noqa: S603`` exceptions)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import CommandError

AS_ROOT = os.geteuid() == 0


def _argv(args: Sequence[str | Path], as_user: str | None) -> list[str]:
    """``args`` as strings, through ``runuser`` as ``as_user`` when we are root."""
    argv = [str(a) for a in args]
    return ["/usr/sbin/runuser", "-u", as_user, "--", *argv] if as_user and AS_ROOT else argv


def run(
    args: Sequence[str | Path],
    *,
    what: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    as_user: str | None = None,
    input: str | None = None,
    timeout: float = 300.0,
) -> str:
    """Run ``args`` to completion, with ``input`` on its standard input, and return its
    combined output.

    ``as_user`` runs the command through ``runuser`` when we are root (PostgreSQL refuses
    to run as root) and is ignored otherwise. Raises CommandError naming ``what`` with the
    tail of the output when the command fails or exceeds ``timeout`` seconds.
    """
    argv = _argv(args, as_user)
    try:
        done = subprocess.run(  # noqa: S603 - absolute paths, argument list, no shell
            argv,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CommandError(
            f"{what} did not finish within {timeout:.0f}s: {' '.join(argv)}"
        ) from exc
    except OSError as exc:
        raise CommandError(f"{what} could not start ({exc}): {' '.join(argv)}") from exc
    if done.returncode != 0:
        raise CommandError(
            f"{what} failed with exit code {done.returncode}: {' '.join(argv)}\n"
            + tail_text(done.stdout)
        )
    return done.stdout


def start(args: Sequence[str | Path], *, as_user: str | None) -> subprocess.Popen:
    """Start ``args`` in the background, output discarded (a one-off server the caller
    stops); as ``as_user`` when we are root."""
    return subprocess.Popen(  # noqa: S603 - absolute paths, argument list, no shell
        _argv(args, as_user),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run_attached(
    args: Sequence[str | Path], *, cwd: Path, env: Mapping[str, str], as_user: str | None
) -> int:
    """Run ``args`` on this terminal (output not captured); return its exit code."""
    argv = _argv(args, as_user)
    return subprocess.run(argv, cwd=cwd, env=dict(env), check=False).returncode  # noqa: S603


def succeeds(args: Sequence[str | Path], *, timeout: float = 10.0) -> bool:
    """Return True when the command exits 0; used for cheap probes like ``pg_isready``."""
    try:
        done = subprocess.run(  # noqa: S603 - absolute paths, argument list, no shell
            [str(a) for a in args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except (subprocess.TimeoutExpired, OSError):
        return False
    return done.returncode == 0


def tail_text(text: str, lines: int = 20) -> str:
    """The last ``lines`` lines of ``text``, indented for inclusion in an error message."""
    kept = text.rstrip().splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in kept)


def tail_file(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file, or a note that it does not exist yet."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return f"    (no log at {path})"
    return tail_text(text, lines)


def child_pids(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (e.g. a gunicorn master's workers)."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.add(int(entry.name))
    return children
