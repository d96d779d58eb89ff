"""Fixtures for the cluster tool's tests.

Unit tests need nothing. Integration tests take the ``cluster`` fixture: they run against
the real local cluster that ``make test`` starts with ``python -m deploy up`` before
pytest, and fail at once, saying so, when it is not up.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest
import requests

from tests.deploy.helpers import CHECKOUT, deploy_cli


@pytest.fixture(scope="session")
def cluster() -> dict[str, Any]:
    """The running cluster's ``status-json``; fails clearly if it is not up and healthy."""
    done = deploy_cli("status-json", timeout=60)
    try:
        status = json.loads(done.stdout)
    except ValueError:
        pytest.fail(
            "`python -m deploy status-json` gave no JSON; is the cluster up? "
            f"Run `python -m deploy up` (make test does).\n{done.stdout}\n{done.stderr}"
        )
    if done.returncode != 0 or not status.get("healthy"):
        pytest.fail(
            "the local cluster is not up and healthy; run `python -m deploy up` "
            f"(make test does). status-json said:\n{json.dumps(status, indent=2)}"
        )
    return status


@pytest.fixture(scope="session")
def lb_url(cluster: dict[str, Any]) -> str:
    return str(cluster["lb"])


@pytest.fixture(scope="session")
def product_slug(lb_url: str) -> str:
    """A published product's slug, seeding a small catalog first if it is empty."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "seed_catalog",
            "--if-empty",
            "--products",
            "5",
            "--seed",
            "1",
            "--verbosity",
            "0",
        ],
        cwd=CHECKOUT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    home = requests.get(f"{lb_url}/", timeout=10).text
    for category in re.findall(r'href="(/categories/[\w-]+/)"', home):
        page = requests.get(f"{lb_url}{category}", timeout=10).text
        match = re.search(r'href="/products/([\w-]+)/"', page)
        if match:
            return match.group(1)
    pytest.fail("no product link on any category page after `seed_catalog`")
