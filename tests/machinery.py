"""``make test-machinery``: the machinery's tests in a copy of the project without the demo shop.

The copy holds the checkout's files (git's list: tracked and new, not ignored) less the demo
apps and their tests. It uses the running cluster (its ``.run`` is the checkout's) with a test
database and keys of its own (``SHOP_TEST_RUN``). Arguments are passed on to pytest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
DEMO = (
    "catalog",
    "cart",
    "orders",
    "prerender",
    "tests/catalog",
    "tests/cart",
    "tests/orders",
    "tests/prerender",
    "tests/fuzz",
    "tests/factories.py",
    "tests/shop_fixtures.py",
)
MACHINERY_TESTS = (
    "tests/core",
    "tests/replication",
    "tests/caching",
    "tests/jobs",
    "tests/ops",
    "tests/config",
)


def _is_demo(name: str) -> bool:
    return any(name == demo or name.startswith(f"{demo}/") for demo in DEMO)


def machinery_files() -> list[str]:
    """The checkout's files as git lists them (tracked and new, not ignored), less the demo."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    return [n for n in listed if n and not _is_demo(n) and (CHECKOUT / n).is_file()]


def copy_without_demo(target: Path) -> None:
    for name in machinery_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(CHECKOUT / name, target / name)
    (target / ".run").symlink_to((CHECKOUT / ".run").resolve())


def main(pytest_args: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="scaleshop-machinery-") as directory:
        copy = Path(directory)
        copy_without_demo(copy)
        paths = [path for path in MACHINERY_TESTS if (copy / path).is_dir()]
        print(f"Without the demo shop, in {copy}: pytest {' '.join(paths)}", flush=True)
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *paths, *pytest_args],
            cwd=copy,
            env=os.environ | {"SHOP_TEST_RUN": "machinery"},
            check=False,
        ).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
