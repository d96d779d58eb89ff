"""`rollout` replaces every clone under load with zero failed requests."""

from __future__ import annotations

from typing import Any

from tests.deploy.helpers import LoadLoop, cluster_status, deploy_cli


def test_rollout_under_load_fails_no_request_and_moves_every_clone(
    cluster: dict[str, Any], lb_url: str, product_slug: str
) -> None:
    old_release = cluster_status()["clones"][0]["release"]
    with (
        LoadLoop(lb_url, max_seconds=240) as pages,
        LoadLoop(lb_url, post_slug=product_slug, max_seconds=240) as posts,
    ):
        done = deploy_cli("rollout", timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr

    assert pages.result.requests > 50 and posts.result.requests > 50
    assert pages.result.failures == [], pages.result.failures[:10]
    assert posts.result.failures == [], posts.result.failures[:10]

    after = cluster_status()
    releases = {clone["release"] for clone in after["clones"]}
    assert len(releases) == 1 and releases != {old_release}
    assert all(clone["healthy"] for clone in after["clones"])
    assert after["release"] in releases


def test_rollout_to_a_named_release(cluster: dict[str, Any]) -> None:
    done = deploy_cli("rollout", "--release", "named-test-release", timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {c["release"] for c in cluster_status()["clones"]} == {"named-test-release"}
