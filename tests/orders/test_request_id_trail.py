"""One request followed through the cluster by its id: nginx, the clone, the response, the
outbox, the broker and the worker that bakes the order it placed.

Logs outlive test runs, so only what each log gained during the test is read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cluster import wait_for
from tests.deploy.helpers import new_session
from tests.orders.conftest import (
    NEW,
    fake_client_address,
    order_form,
    placed_uuid,
    shop_order,
    wait_until_ready,
)

REQUEST_ID = "test-123"


class LogTail:
    """The lines a log file gains from now on."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start = path.stat().st_size if path.exists() else 0

    def lines(self) -> list[str]:
        with self.path.open("rb") as log:
            log.seek(self.start)
            return log.read().decode(errors="replace").splitlines()

    def json_lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.lines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue  # gunicorn's and Dramatiq's own lines are plain text
        return found


def test_a_special_orders_request_id_is_in_nginx_the_clone_the_response_and_the_worker(
    cluster, lb_url, product_slug
):
    logs = Path(cluster["run_dir"]) / "logs"
    tails = {
        name: LogTail(logs / f"{name}.log")
        for name in [c["name"] for c in cluster["clones"]] + [w["name"] for w in cluster["workers"]]
    }
    nginx = LogTail(logs / "nginx-access.log")
    session = new_session()
    session.get(f"{lb_url}{NEW}?product={product_slug}", timeout=10)

    response = session.post(
        f"{lb_url}{NEW}",
        data={
            **order_form(product_slug, "Trace me"),
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={
            "X-Request-ID": REQUEST_ID,
            "X-Forwarded-For": fake_client_address(),
            "Referer": lb_url,
        },
        allow_redirects=False,
        timeout=30,
    )
    uuid = placed_uuid(response)

    assert response.headers["X-Request-ID"] == REQUEST_ID
    clone_lines = [
        line
        for line in tails[response.headers["X-Clone"]].json_lines()
        if line.get("request_id") == REQUEST_ID
    ]
    assert [(line["method"], line["path"], line["status"]) for line in clone_lines] == [
        ("POST", NEW, 302)
    ]
    wait_for(
        lambda: any(
            f"POST {NEW} " in line and f"request_id={REQUEST_ID}" in line for line in nginx.lines()
        ),
        timeout=10,
        what="nginx's access log line (flushed every second)",
    )

    wait_until_ready(lb_url, [uuid], timeout=30)
    worker = str(shop_order(uuid)["baker"]).split("/")[0]  # "worker-N/<pid>"

    def job_lines() -> list[str]:
        return [
            line["message"]
            for line in tails[worker].json_lines()
            if line.get("request_id") == REQUEST_ID
        ]

    # The job ends after READY is committed (the email comes last).
    wait_for(lambda: "job bake_special_order done" in job_lines(), timeout=30, what="job done")
    assert job_lines()[0] == "job bake_special_order started"
