"""Fixtures of the cluster tool's own tests."""

from pathlib import Path

import pytest

from deploy.credentials import Credentials, ensure_credentials
from deploy.paths import Layout


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    """A layout in a temporary directory: a checkout beside an empty, existing RUN_DIR."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    return Layout(checkout=tmp_path / "checkout", run_dir=run_dir)


@pytest.fixture
def credentials(layout: Layout) -> Credentials:
    """Generated credentials saved in the layout's RUN_DIR, as `up` saves them."""
    return ensure_credentials(layout)
