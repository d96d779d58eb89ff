"""deploy/install-packages.sh against fake apt tools (the machine's package manager only):
the package it picks on each system.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.deploy.helpers import CHECKOUT, run

SCRIPT = CHECKOUT / "deploy" / "install-packages.sh"

FAKE_APT_CACHE = """#!/bin/bash
# apt-cache policy NAME: the answer stored in $FAKE_APT/policy-NAME, if any.
[ "$1" = policy ] || exit 1
answer="$FAKE_APT/policy-$2"
[ -f "$answer" ] || exit 0  # apt-cache prints nothing for a name it has never heard of
head -n 3 "$answer"
sleep 0.3
tail -n +4 "$answer"
"""
FAKE_APT_GET = """#!/bin/bash
echo "apt-get $*" >> "$FAKE_APT/calls"
"""
FAKE_DPKG = """#!/bin/bash
# dpkg -s NAME: installed when $FAKE_APT/installed lists it.
grep -qx "$2" "$FAKE_APT/installed"
"""
FAKE_SUDO = """#!/bin/bash
exec "$@"
"""


def policy(name: str, candidate: str, table_lines: int = 0) -> str:
    table = "".join(
        f"     1:{i}.0-1 500\n        500 http://deb.example/debian main amd64 Packages\n"
        for i in range(table_lines)
    )
    return f"{name}:\n  Installed: (none)\n  Candidate: {candidate}\n  Version table:\n{table}"


@pytest.fixture
def fake_apt(tmp_path: Path) -> Path:
    """A directory of fake apt tools; answers and the record of calls live in it too."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in {
        "apt-cache": FAKE_APT_CACHE,
        "apt-get": FAKE_APT_GET,
        "dpkg": FAKE_DPKG,
        "sudo": FAKE_SUDO,
    }.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (tmp_path / "installed").write_text("")
    return tmp_path


def install(fake_apt: Path, *args: str, browsers: list[Path] | None = None) -> tuple[str, str]:
    """Run the script with the fakes first on PATH; (its output, the apt-get calls)."""
    env = {
        **os.environ,
        "PATH": f"{fake_apt / 'bin'}:{os.environ['PATH']}",
        "FAKE_APT": str(fake_apt),
        "BROWSER_PATHS": " ".join(map(str, browsers or [fake_apt / "no-such-browser"])),
    }
    env.pop("CHROMIUM", None)
    done = run(["/bin/bash", str(SCRIPT), *args], timeout=60, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    calls = fake_apt / "calls"
    return done.stdout + done.stderr, calls.read_text() if calls.exists() else ""


def test_debian_gets_the_chromium_package_even_with_a_long_version_table(
    fake_apt: Path,
) -> None:
    (fake_apt / "policy-chromium").write_text(policy("chromium", "156.0-1~deb12u1", 3000))
    (fake_apt / "policy-chromium-browser").write_text(policy("chromium-browser", "(none)"))
    output, calls = install(fake_apt, "--browser")
    assert "apt-get install -y -q chromium\n" in calls
    assert "chromium-browser" not in calls
    assert "Installing Debian packages: chromium" in output


def test_ubuntu_gets_chromium_browser_when_chromium_has_no_candidate(fake_apt: Path) -> None:
    (fake_apt / "policy-chromium").write_text(policy("chromium", "(none)"))
    (fake_apt / "policy-chromium-browser").write_text(
        policy("chromium-browser", "2:1snap1-0ubuntu2", 40)
    )
    _output, calls = install(fake_apt, "--browser")
    assert "apt-get install -y -q chromium-browser\n" in calls


def test_only_missing_packages_are_installed(fake_apt: Path) -> None:
    (fake_apt / "installed").write_text("postgresql\nredis-server\n")
    _output, calls = install(fake_apt, "postgresql", "redis-server", "nginx-light")
    assert calls.splitlines()[-1] == "apt-get install -y -q nginx-light"


def test_nothing_missing_installs_nothing_and_prints_nothing(fake_apt: Path) -> None:
    (fake_apt / "installed").write_text("postgresql\nredis-server\nnginx-light\n")
    browser = fake_apt / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    output, calls = install(
        fake_apt, "postgresql", "redis-server", "nginx-light", "--browser", browsers=[browser]
    )
    assert (output, calls) == ("", "")


def test_no_project_shell_code_ends_a_pipeline_with_an_early_exiting_reader() -> None:
    # Under pipefail, `producer | grep -q` fails at random when grep exits first.
    scripts = [*CHECKOUT.glob("deploy/*.sh"), *CHECKOUT.glob(".ci/*")]
    offenders = [
        f"{script.name}: {line.strip()}"
        for script in scripts
        for line in script.read_text().splitlines()
        if "|" in line and any(reader in line for reader in ("grep -q", "| head", "grep -m"))
    ]
    assert offenders == []
