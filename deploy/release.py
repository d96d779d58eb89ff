"""Release names, and the release phase (``check``, ``migrate``, ``collectstatic``) that runs
once per release before any clone of it starts; migrations must suit the previous release.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

from .errors import CommandError
from .paths import Layout
from .proc import run
from .runtime import app_runtime
from .tools import GIT


def default_release_name(layout: Layout) -> str:
    """The code the clones would run: ``<short commit>``, plus ``-dirty<hash>`` of the
    uncommitted changes. So ``up`` after an edit rolls the clones onto the new code, and
    an unchanged tree keeps its release. ``dev`` stands for the commit outside git.
    """

    def git(*args: str) -> str:
        return run([GIT, *args], what="git", cwd=layout.checkout)

    try:
        commit = git("rev-parse", "--short", "HEAD").strip()
        changes = git("diff", "HEAD", "--binary") + git(
            "ls-files", "--others", "--exclude-standard"
        )
    except CommandError:
        return "dev"
    if not changes:
        return commit
    return f"{commit}-dirty{hashlib.sha256(changes.encode()).hexdigest()[:8]}"


def run_release_phase(layout: Layout, name: str, env: Mapping[str, str]) -> None:
    """``manage.py check`` (cluster-mode checks refuse local state), ``migrate``, then
    ``collectstatic`` of release ``name``, as the app tier runs them (its user and env);
    raises on failure."""
    runtime = app_runtime(layout, name)
    code = layout.release_dir(name)
    full_env = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    commands = (
        ["check"],
        ["migrate", "--noinput"],
        ["collectstatic", "--noinput", "--verbosity", "0"],
    )
    for command in commands:
        print(f"  release phase: manage.py {' '.join(command)}", flush=True)
        run(
            [*runtime.manage(code), *command],
            what=f"manage.py {command[0]}",
            cwd=code,
            env=full_env,
            as_user=runtime.user,
            timeout=600,
        )
