"""Fixtures of the demo shop's tests (catalog, cart, orders, prerender, fuzz), which import
them in their conftest.py: the machinery's tests run without the shop (``make test-machinery``).
"""

import pytest

from catalog.seeding import cake_picture
from tests.factories import (
    PICTURE_IMAGE,
    PictureFactory,
    PriceFactory,
    ProductFactory,
    ProductTextFactory,
)

__all__ = ["_factory_picture", "_prerender_in_tmp", "product"]


@pytest.fixture(autouse=True)
def _factory_picture(_media_in_tmp, settings):
    """The factories' picture, in each test's own media directory."""
    picture = settings.MEDIA_ROOT / PICTURE_IMAGE
    picture.parent.mkdir(parents=True)
    picture.write_bytes(cake_picture((214, 160, 120)))


@pytest.fixture(autouse=True)
def _prerender_in_tmp(settings, tmp_path):
    """Pages prerendered in a test go to a per-test directory, never the cluster's: a
    test's catalog writes (in the test database) must not take the cluster's pages out."""
    settings.PRERENDER_ROOT = tmp_path / "prerendered"


@pytest.fixture
def product():
    """A published product with a price, a text and a picture."""
    product = ProductFactory()
    PriceFactory(product=product)
    ProductTextFactory(product=product)
    PictureFactory(product=product)
    return product
