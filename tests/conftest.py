"""Shared fixtures. The services (Postgres primary + replica, Redis) are the project's
own, started by ``make test`` through the cluster tool before pytest runs."""

import pytest

from tests.factories import PictureFactory, PriceFactory, ProductFactory, ProductTextFactory


@pytest.fixture
def product():
    """A published product with a price, a text and a picture."""
    product = ProductFactory()
    PriceFactory(product=product)
    ProductTextFactory(product=product)
    PictureFactory(product=product)
    return product
