"""deploy/create-app-user.sh (run by `make bootstrap`) against fake account tools."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from deploy.runtime import APP_USER
from tests.deploy.helpers import CHECKOUT

SCRIPT = CHECKOUT / "deploy" / "create-app-user.sh"


@pytest.fixture
def fakes(tmp_path: Path) -> Path:
    """``id`` answering $FAKE_UID, ``getent`` knowing the users in ``users``, and a
    ``useradd`` that records its arguments in ``calls``."""
    scripts = {
        "id": 'echo "$FAKE_UID"\n',
        "getent": 'grep -qx "$2" "$FAKES/users"\n',
        "useradd": 'echo "useradd $*" >> "$FAKES/calls"\n',
    }
    (tmp_path / "bin").mkdir()
    for name, body in scripts.items():
        (tmp_path / "bin" / name).write_text("#!/bin/bash\n" + body)
        (tmp_path / "bin" / name).chmod(0o755)
    (tmp_path / "users").write_text("root\n")
    return tmp_path


def create(fakes: Path, uid: int) -> str:
    env = {
        **os.environ,
        "PATH": f"{fakes / 'bin'}:{os.environ['PATH']}",
        "FAKES": str(fakes),
        "FAKE_UID": str(uid),
    }
    done = subprocess.run(
        ["/bin/bash", str(SCRIPT)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    calls = fakes / "calls"
    return calls.read_text() if calls.exists() else ""


def test_root_gets_an_unprivileged_system_user_without_login(fakes: Path) -> None:
    call = create(fakes, uid=0)
    assert call.startswith("useradd --system ")
    assert "--shell /usr/sbin/nologin" in call
    assert call.split()[-1] == APP_USER


def test_an_existing_user_is_left_alone(fakes: Path) -> None:
    (fakes / "users").write_text(f"root\n{APP_USER}\n")
    assert create(fakes, uid=0) == ""


def test_not_as_root_nothing_is_created(fakes: Path) -> None:
    assert create(fakes, uid=1000) == ""
