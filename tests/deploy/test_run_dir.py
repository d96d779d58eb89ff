"""RUN_DIR resolution: where the cluster's data lives, for every kind of checkout."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.errors import ConfigurationError
from deploy.paths import (
    fallback_run_dir,
    is_world_traversable,
    link_checkout_run,
    resolve_run_dir,
)


@pytest.fixture
def open_checkout() -> Iterator[Path]:
    """A checkout every user can reach (pytest's own tmp_path is private to us)."""
    root = Path(tempfile.mkdtemp(prefix="deploy-test-"))
    checkout = root / "scaleshop"
    checkout.mkdir()
    for path in (root, checkout):
        path.chmod(0o755)
    yield checkout
    shutil.rmtree(root)


@pytest.fixture
def private_checkout(tmp_path: Path) -> Path:
    """A checkout under a mode-700 home, like /root on a CI runner."""
    home = tmp_path / "home"
    checkout = home / "ci-build" / "scaleshop"
    checkout.mkdir(parents=True)
    tmp_path.chmod(0o755)
    home.chmod(0o700)
    return checkout


def test_run_dir_variable_wins_over_everything(open_checkout: Path, tmp_path: Path) -> None:
    chosen = tmp_path / "elsewhere"
    assert resolve_run_dir(open_checkout, {"RUN_DIR": str(chosen)}) == chosen


def test_traversable_checkout_keeps_its_data_in_dot_run(open_checkout: Path) -> None:
    assert resolve_run_dir(open_checkout, {}) == open_checkout / ".run"


def test_checkout_under_private_home_falls_back_to_temp_dir(
    private_checkout: Path, tmp_path: Path
) -> None:
    temp_root = tmp_path / "tmp"
    run_dir = resolve_run_dir(private_checkout, {}, temp_root=temp_root)
    assert run_dir.parent == temp_root
    assert run_dir.name.startswith("scaleshop-")
    assert not is_world_traversable(private_checkout)


def test_fallback_is_stable_and_differs_per_checkout(tmp_path: Path) -> None:
    first = fallback_run_dir(tmp_path / "a", tmp_path)
    assert first == fallback_run_dir(tmp_path / "a", tmp_path)
    assert first != fallback_run_dir(tmp_path / "b", tmp_path)


def test_dot_run_symlink_leads_later_commands_to_the_same_run_dir(
    private_checkout: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "tmp" / "scaleshop-1234"
    run_dir.mkdir(parents=True)
    link_checkout_run(private_checkout, run_dir)
    assert (private_checkout / ".run").resolve() == run_dir
    # `status` run later without RUN_DIR set finds the cluster through the symlink.
    assert resolve_run_dir(private_checkout, {}) == run_dir


def test_linking_replaces_an_old_symlink(open_checkout: Path, tmp_path: Path) -> None:
    link_checkout_run(open_checkout, tmp_path / "old")
    link_checkout_run(open_checkout, tmp_path / "new")
    assert (open_checkout / ".run").readlink() == tmp_path / "new"


def test_linking_refuses_to_hide_a_dot_run_directory_with_data(
    open_checkout: Path, tmp_path: Path
) -> None:
    (open_checkout / ".run").mkdir()
    (open_checkout / ".run" / "cluster.env").write_text("X=1\n")
    with pytest.raises(ConfigurationError, match="directory with data"):
        link_checkout_run(open_checkout, tmp_path / "elsewhere")


def test_linking_is_a_no_op_when_run_dir_is_dot_run(open_checkout: Path) -> None:
    link_checkout_run(open_checkout, open_checkout / ".run")
    assert not (open_checkout / ".run").exists()
