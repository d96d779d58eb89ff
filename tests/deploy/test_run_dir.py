"""RUN_DIR resolution and claiming: where the cluster's data lives, for every checkout."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.errors import ConfigurationError
from deploy.paths import (
    FALLBACK_ROOTS,
    MARKER,
    fallback_run_dir,
    is_world_traversable,
    link_checkout_run,
    prepare_run_dir,
    resolve_run_dir,
)


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory every user can reach (pytest's own tmp_path is private to us)."""
    root = Path(tempfile.mkdtemp(prefix="deploy-test-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root)


@pytest.fixture
def open_checkout(open_dir: Path) -> Path:
    checkout = open_dir / "scaleshop"
    checkout.mkdir(mode=0o755)
    return checkout


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
    assert resolve_run_dir(open_checkout, {}, as_root=True) == open_checkout / ".run"


def test_root_with_a_private_checkout_falls_back_to_a_traversable_root(
    private_checkout: Path, open_dir: Path, tmp_path: Path
) -> None:
    private_root = tmp_path / "home" / "var-lib"
    private_root.mkdir()
    run_dir = resolve_run_dir(
        private_checkout, {}, as_root=True, fallback_roots=[private_root, open_dir]
    )
    assert run_dir.parent == open_dir  # the first root others can traverse
    assert run_dir.name.startswith("scaleshop-")
    assert not is_world_traversable(private_checkout)


def test_the_first_fallback_is_persistent_and_traversable() -> None:
    # /tmp is emptied at boot on some systems, which would leave a half-deleted PGDATA.
    assert FALLBACK_ROOTS[0] == Path("/var/lib")
    assert is_world_traversable(FALLBACK_ROOTS[0])


def test_no_traversable_fallback_is_a_clear_error(private_checkout: Path) -> None:
    with pytest.raises(ConfigurationError, match="set RUN_DIR"):
        resolve_run_dir(private_checkout, {}, as_root=True, fallback_roots=[private_checkout])


def test_not_root_keeps_dot_run_even_under_a_private_home(private_checkout: Path) -> None:
    # Every process then runs as the invoking user: nobody else has to traverse anything.
    assert resolve_run_dir(private_checkout, {}, as_root=False) == private_checkout / ".run"


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


def test_an_explicit_run_dir_leaves_another_clusters_dot_run_alone(
    open_checkout: Path, tmp_path: Path
) -> None:
    (open_checkout / ".run").mkdir()
    (open_checkout / ".run" / "cluster.env").write_text("X=1\n")
    note = link_checkout_run(open_checkout, tmp_path / "elsewhere", explicit=True)
    assert "holds another cluster" in note
    assert (open_checkout / ".run" / "cluster.env").read_text() == "X=1\n"


def test_linking_is_a_no_op_when_run_dir_is_dot_run(open_checkout: Path) -> None:
    link_checkout_run(open_checkout, open_checkout / ".run")
    assert not (open_checkout / ".run").exists()


def test_a_new_run_dir_is_traversable_whatever_the_umask(open_dir: Path) -> None:
    run_dir = open_dir / "new" / "run"
    old = os.umask(0o077)
    try:
        prepare_run_dir(run_dir)
    finally:
        os.umask(old)
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o755
    assert (run_dir / MARKER).exists()


def test_a_shared_directory_is_never_adopted_nor_chmodded(open_dir: Path) -> None:
    # Like RUN_DIR=/tmp as root: ours, not empty, sticky and world-writable.
    shared = open_dir / "tmp"
    shared.mkdir()
    (shared / "someone-elses-file").write_text("x")
    shared.chmod(0o1777)
    with pytest.raises(ConfigurationError, match="not empty"):
        prepare_run_dir(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert not (shared / MARKER).exists()


def test_an_empty_directory_is_adopted_with_its_mode(open_dir: Path) -> None:
    empty = open_dir / "empty"
    empty.mkdir()
    empty.chmod(0o711)
    prepare_run_dir(empty)
    assert (empty / MARKER).exists()
    assert stat.S_IMODE(empty.stat().st_mode) == 0o711


def test_a_marked_run_dir_is_adopted_again(open_dir: Path) -> None:
    run_dir = open_dir / "run"
    prepare_run_dir(run_dir)
    (run_dir / "cluster.json").write_text("{}")
    prepare_run_dir(run_dir)  # a second `up`
    assert (run_dir / "cluster.json").exists()


def test_a_symlinked_run_dir_is_refused(open_dir: Path) -> None:
    target = open_dir / "target"
    target.mkdir()
    (open_dir / "link").symlink_to(target)
    with pytest.raises(ConfigurationError, match="symlink"):
        prepare_run_dir(open_dir / "link")
    assert not (target / MARKER).exists()
