"""The cluster tool under failure: clear one-line errors, never tracebacks or torn files."""

from __future__ import annotations

import json
import socket
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from deploy import bench
from deploy.errors import CommandError, ConfigurationError, LockedError
from deploy.files import write_if_changed
from deploy.lock import exclusive
from deploy.paths import Layout
from deploy.supervisord import Supervisor
from deploy.tools import pg_bindir


def test_a_second_mutating_command_waits_for_the_first_then_gives_up_clearly(
    layout: Layout, capsys: pytest.CaptureFixture[str]
) -> None:
    with exclusive(layout, "deploy rollout"):
        with pytest.raises(LockedError, match=r"deploy rollout\) still holds"):
            with exclusive(layout, "deploy stop clone-1", timeout=0.5):
                pass
    assert "waiting for another deploy command to finish" in capsys.readouterr().err
    with exclusive(layout, "deploy stop clone-1", timeout=0.5):  # released: free again
        pass


def test_concurrent_writers_never_share_a_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "nginx" / "nginx.conf"
    errors: list[BaseException] = []

    def write(text: str) -> None:
        try:
            for i in range(200):
                write_if_changed(target, f"{text} {i}\n")
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [p.name for p in target.parent.iterdir()] == ["nginx.conf"]  # no temp file left
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_supervisor_failures_name_what_could_not_be_done(layout: Layout) -> None:
    supervisor = Supervisor(layout)  # no supervisord answers here
    with pytest.raises(CommandError, match="could not send SIGHUP to nginx"):
        supervisor.signal("nginx", "HUP")
    with pytest.raises(CommandError, match="could not re-read"):
        supervisor.apply_program_files()


def test_a_supervisor_fault_becomes_a_command_error(cluster: dict[str, Any]) -> None:
    supervisor = Supervisor(Layout.discover())
    with pytest.raises(CommandError, match="could not send SIGHUP to no-such-program: BAD_NAME"):
        supervisor.signal("no-such-program", "HUP")


def test_bench_counts_only_successful_requests() -> None:
    result = bench.TierResult("t", requests=10, seconds=2.0, failures=4, p50_ms=1, p99_ms=2)
    assert result.per_second == 3.0


def test_bench_against_a_stopped_cluster_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "cluster.json").write_text(json.dumps({"ports": {"lb": port}}))
    monkeypatch.setenv("RUN_DIR", str(tmp_path))
    assert bench.main(["--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"bench: the load balancer at http://127.0.0.1:{port} does not answer")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def _pg_lib(root: Path, *versions: str) -> Path:
    for version in versions:
        (root / version / "bin").mkdir(parents=True)
        (root / version / "bin" / "postgres").touch()
    return root


def test_postgres_binaries_match_the_data_directorys_version(tmp_path: Path) -> None:
    lib = _pg_lib(tmp_path / "lib", "15", "16")
    data = tmp_path / "primary"
    data.mkdir()
    (data / "PG_VERSION").write_text("15\n")
    assert pg_bindir({}, data, lib) == lib / "15" / "bin"
    assert pg_bindir({}, tmp_path / "no-data-yet", lib) == lib / "16" / "bin"  # newest
    assert pg_bindir({"PG_BINDIR": "/opt/pg/bin"}, data, lib) == Path("/opt/pg/bin")


def test_missing_binaries_for_the_data_directorys_version_are_named(tmp_path: Path) -> None:
    lib = _pg_lib(tmp_path / "lib", "16")
    (tmp_path / "PG_VERSION").write_text("15\n")
    with pytest.raises(ConfigurationError, match="made by PostgreSQL 15.*postgresql-15"):
        pg_bindir({}, tmp_path, lib)
