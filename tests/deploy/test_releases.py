"""Releases are immutable copies named by the caller; links and history pick among them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deploy.errors import ConfigurationError
from deploy.paths import Layout
from deploy.releases import (
    KEPT_RELEASES,
    build_release,
    link_program,
    linked_release,
    previous_release,
    record_release,
    release_history,
)


@pytest.fixture
def checkout_layout(tmp_path: Path) -> Layout:
    checkout = tmp_path / "checkout"
    (checkout / "shop").mkdir(parents=True)
    (checkout / "shop" / "views.py").write_text("ANSWER = 1\n")
    (checkout / "manage.py").write_text("")
    (checkout / ".gitignore").write_text(".run/\n")
    (checkout / ".run").mkdir()
    (checkout / ".run" / "state").write_text("local state, never released\n")
    subprocess.run(["git", "init", "-q", str(checkout)], check=True)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    return Layout(checkout=checkout, run_dir=run_dir)


def build(layout: Layout, name: str) -> Path:
    return build_release(layout, name, Path(sys.executable))


def test_a_release_is_a_compiled_copy_of_the_checkout_that_later_edits_do_not_touch(
    checkout_layout: Layout,
) -> None:
    release = build(checkout_layout, "r1")
    (checkout_layout.checkout / "shop" / "views.py").write_text("ANSWER = 2\n")

    assert (release / "shop" / "views.py").read_text() == "ANSWER = 1\n"
    assert (release / "RELEASE").read_text() == "r1\n"
    assert list((release / "shop" / "__pycache__").glob("views.*.pyc"))
    assert not (release / ".run").exists() and not (release / ".git").exists()
    # Built once: the same name is kept as it is, never rebuilt from the edited checkout.
    assert build(checkout_layout, "r1") == release
    assert (release / "shop" / "views.py").read_text() == "ANSWER = 1\n"


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden", "x" * 101, "sp ace"])
def test_a_release_name_that_is_not_a_plain_directory_name_is_refused(
    checkout_layout: Layout, name: str
) -> None:
    with pytest.raises(ConfigurationError, match="release name"):
        build(checkout_layout, name)


def test_links_move_atomically_and_name_their_release(checkout_layout: Layout) -> None:
    build(checkout_layout, "r1")
    build(checkout_layout, "r2")
    assert linked_release(checkout_layout, "clone-1") is None

    assert link_program(checkout_layout, "clone-1", "r1")
    assert not link_program(checkout_layout, "clone-1", "r1")  # already there
    assert link_program(checkout_layout, "clone-1", "r2")

    link = checkout_layout.running_code("clone-1")
    assert linked_release(checkout_layout, "clone-1") == "r2"
    assert (link / "RELEASE").read_text() == "r2\n"
    assert link.resolve() == checkout_layout.release_dir("r2")


def test_history_keeps_the_last_releases_and_every_linked_one(checkout_layout: Layout) -> None:
    names = [f"r{n}" for n in range(1, KEPT_RELEASES + 3)]
    build(checkout_layout, names[0])
    link_program(checkout_layout, "worker-1", names[0])  # still running the oldest
    for name in names:
        build(checkout_layout, name)
        record_release(checkout_layout, name)

    kept = release_history(checkout_layout)
    assert kept == [names[0], *names[-KEPT_RELEASES:]]
    assert sorted(p.name for p in checkout_layout.releases_dir.iterdir() if p.is_dir()) == sorted(
        kept
    )
    assert previous_release(checkout_layout, names[-1]) == names[-2]


def test_rollback_with_no_earlier_release_says_so(checkout_layout: Layout) -> None:
    build(checkout_layout, "r1")
    record_release(checkout_layout, "r1")
    with pytest.raises(ConfigurationError, match="nothing to roll back to"):
        previous_release(checkout_layout, "r1")
