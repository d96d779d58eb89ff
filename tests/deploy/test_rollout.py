"""`rollout` replaces every clone under load with zero failed requests."""

from __future__ import annotations

import uuid
from typing import Any

from deploy.paths import Layout
from deploy.release import default_release_name
from tests.deploy.helpers import LoadLoop, cluster_status, deploy_cli


def test_rollout_under_load_fails_no_request_and_moves_every_clone(
    cluster: dict[str, Any], lb_url: str, product_slug: str
) -> None:
    new_release = f"load-test-{uuid.uuid4().hex[:8]}"
    with (
        LoadLoop(lb_url, max_seconds=240) as pages,
        LoadLoop(lb_url, post_slug=product_slug, max_seconds=240) as posts,
    ):
        done = deploy_cli("rollout", "--release", new_release, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr

    assert pages.result.requests > 50 and posts.result.requests > 50
    assert pages.result.failures == [], pages.result.failures[:10]
    assert posts.result.failures == [], posts.result.failures[:10]
    # Load went on throughout: every clone answered some of it (X-Clone).
    names = {clone["name"] for clone in cluster["clones"]}
    assert pages.result.clones == names and posts.result.clones == names

    after = cluster_status()
    assert {clone["release"] for clone in after["clones"]} == {new_release}
    assert all(clone["healthy"] for clone in after["clones"])
    assert after["release"] == new_release


def test_rollout_without_a_name_moves_clones_to_the_checkouts_code(
    cluster: dict[str, Any],
) -> None:
    done = deploy_cli("rollout", timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = default_release_name(Layout.discover())
    assert {c["release"] for c in cluster_status()["clones"]} == {expected}
