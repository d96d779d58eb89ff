"""`rollout` moves every clone to a new release under load with zero failed requests, on
keep-alive connections too (it never reloads nginx); `rollback` moves them back the same
way; and a release is an immutable copy, so editing the checkout changes nothing running."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from deploy.bench import WrkLoad, wrk_command
from deploy.paths import Layout
from tests.deploy.helpers import LoadLoop, cluster_status, deploy_cli


@contextmanager
def keep_alive_load(lb_url: str, product_slug: str) -> Iterator[tuple[WrkLoad, LoadLoop]]:
    """wrk's keep-alive GETs on a view of the clones, and a keep-alive client alternating
    page views with cart POSTs (sessions checked), both until the block ends."""
    command = wrk_command()
    assert command is not None, "wrk is missing: `make bootstrap-test` installs it"
    with ExitStack() as stack:
        posts = stack.enter_context(
            LoadLoop(lb_url, post_slug=product_slug, max_seconds=240, keep_alive=True)
        )
        wrk = stack.enter_context(WrkLoad(command, f"{lb_url}/cart.json"))
        yield wrk, posts


def assert_no_failures(wrk: WrkLoad, posts: LoadLoop, clones: set[str]) -> None:
    figures = wrk.figures
    assert figures.requests > 1000, wrk.output
    assert figures.errors == 0, f"{wrk.socket_errors}; HTTP errors {figures.http_errors}"
    assert posts.result.requests > 20
    assert posts.result.failures == [], posts.result.failures[:10]
    assert posts.result.clones == clones  # the load went on throughout, on every clone


def clone_releases() -> dict[str, tuple[str, str]]:
    """Each clone's release and the directory its code runs from, as its /healthz says."""
    return {
        clone["name"]: (clone["release"], clone["release_dir"])
        for clone in cluster_status()["clones"]
    }


def test_rollout_under_keep_alive_load_fails_no_request_and_moves_every_clone(
    cluster: dict[str, Any], lb_url: str, product_slug: str
) -> None:
    new_release = f"load-test-{uuid.uuid4().hex[:8]}"
    with keep_alive_load(lb_url, product_slug) as (wrk, posts):
        done = deploy_cli("rollout", "--release", new_release, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr

    assert_no_failures(wrk, posts, {clone["name"] for clone in cluster["clones"]})
    after = cluster_status()
    assert after["release"] == new_release
    assert all(clone["healthy"] for clone in after["clones"])
    release_dir = str(Layout.discover().release_dir(new_release))
    assert set(clone_releases().values()) == {(new_release, release_dir)}


def test_rollback_under_keep_alive_load_returns_to_the_previous_release(
    cluster: dict[str, Any], lb_url: str, product_slug: str
) -> None:
    before = cluster_status()["release"]
    newer = f"rollback-test-{uuid.uuid4().hex[:8]}"
    done = deploy_cli("rollout", "--release", newer, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr

    with keep_alive_load(lb_url, product_slug) as (wrk, posts):
        done = deploy_cli("rollback", timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr

    assert_no_failures(wrk, posts, {clone["name"] for clone in cluster["clones"]})
    assert {release for release, _ in clone_releases().values()} == {before}
    assert cluster_status()["release"] == before


def test_editing_the_checkout_changes_nothing_until_a_rollout(cluster: dict[str, Any]) -> None:
    """`rollout` without a name then takes the checkout as it is, under a name saying so."""
    layout = Layout.discover()
    running = clone_releases()
    probe = layout.checkout / f"edit-probe-{uuid.uuid4().hex[:8]}.txt"
    probe.write_text("an edit nobody rolled out\n")
    try:
        for _release, directory in running.values():
            assert not (Path(directory) / probe.name).exists()
        assert clone_releases() == running

        done = deploy_cli("rollout", timeout=240)
        assert done.returncode == 0, done.stdout + done.stderr
        edited = cluster_status()["release"]
        assert "-dirty" in edited  # the release's name says it is not a commit
        for release, directory in clone_releases().values():
            assert release == edited
            assert (Path(directory) / probe.name).read_text() == probe.read_text()
    finally:
        probe.unlink()
