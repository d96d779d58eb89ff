"""The demo shop's fixtures (tests/shop_fixtures.py)."""

from tests.shop_fixtures import *  # noqa: F403  (the shop's fixtures)
