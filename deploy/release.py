"""Releases: naming them, and the release phase that runs before any clone of one starts.

The release phase (``check``, ``migrate``, ``collectstatic``) runs once per release, not once per
clone: migrations must be backward compatible with the previous release, whose clones are
still serving while a rollout proceeds (expand first, contract in a later release).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping

from .errors import CommandError
from .paths import Layout
from .proc import run

GIT = "/usr/bin/git"


def default_release_name(layout: Layout, now: dt.datetime | None = None) -> str:
    """``<short commit>-<UTC timestamp>``, so every rollout is distinguishable.

    Falls back to ``dev`` as the commit part outside a git checkout or before the first
    commit.
    """
    try:
        commit = run([GIT, "rev-parse", "--short", "HEAD"], what="git", cwd=layout.checkout).strip()
    except CommandError:
        commit = "dev"
    stamp = (now or dt.datetime.now(tz=dt.UTC)).strftime("%Y%m%d%H%M%S")
    return f"{commit}-{stamp}"


def run_release_phase(layout: Layout, env: Mapping[str, str]) -> None:
    """``manage.py check`` (cluster-mode checks refuse local state), ``migrate``, then
    ``collectstatic``, with the cluster env; raises on failure."""
    python = layout.venv_bin / "python"
    full_env = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    commands = (
        ["check"],
        ["migrate", "--noinput"],
        ["collectstatic", "--noinput", "--verbosity", "0"],
    )
    for command in commands:
        print(f"  release phase: manage.py {' '.join(command)}", flush=True)
        run(
            [python, layout.checkout / "manage.py", *command],
            what=f"manage.py {command[0]}",
            cwd=layout.checkout,
            env=full_env,
            timeout=600,
        )
