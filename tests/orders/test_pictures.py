"""The baked picture: drawn onto the product's picture, read and written through Django's
storage API (``default_storage``), so a storage such as S3 works as the file system does."""

import io
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from orders import baking
from orders.actors import MAX_ATTEMPTS
from orders.rendering import render_writing
from tests.factories import PICTURE_IMAGE, PictureFactory, SpecialOrderFactory

pytestmark = pytest.mark.django_db
CDN = "https://cdn.example/media/"


def _pixels(png: bytes) -> bytes:
    return Image.open(io.BytesIO(png)).convert("RGB").tobytes()


def test_writing_is_drawn_onto_the_product_picture():
    with default_storage.open(PICTURE_IMAGE, "rb") as source:
        picture = source.read()
    plain = Image.open(io.BytesIO(picture)).convert("RGB").resize((640, 480))

    baked = render_writing(writing="Ana", picture=picture)

    assert Image.open(io.BytesIO(baked)).size == (640, 480)
    assert _pixels(baked) != plain.tobytes()
    assert baked == render_writing(writing="Ana", picture=picture)  # deterministic


@pytest.fixture
def storage_elsewhere(settings):
    """A storage that is not MEDIA_ROOT, with URLs of its own (as S3 behind a CDN)."""
    settings.STORAGES = settings.STORAGES | {
        "default": {
            "BACKEND": "django.core.files.storage.InMemoryStorage",
            "OPTIONS": {"base_url": CDN},
        }
    }
    settings.SHOP_PUBLIC_URL = "https://shop.example"


def test_the_bake_reads_the_picture_and_links_the_cake_through_the_storage(
    storage_elsewhere, settings, client
):
    order = SpecialOrderFactory(writing="Ana")
    on_disk = Path(settings.MEDIA_ROOT) / PICTURE_IMAGE  # where the storage does not look
    default_storage.save(PICTURE_IMAGE, ContentFile(on_disk.read_bytes()))
    PictureFactory(product=order.product)

    baking.special_order_bake(order_id=order.pk, baker="test/1", max_attempts=MAX_ATTEMPTS)

    order.refresh_from_db()
    with default_storage.open(order.image, "rb") as stored:
        baked = stored.read()
    assert _pixels(baked) != _pixels(render_writing(writing="Ana", picture=None))  # not plain
    url = f"{CDN}orders/{order.uuid}.png"
    assert client.get(f"/orders/{order.uuid}/status.json").json()["image_url"] == url
    assert f"Its picture: {url}\n" in mail.outbox[0].body


def test_the_benchs_trivial_bake_draws_a_plain_cake_without_oven_time(settings):
    settings.SPECIAL_ORDER_BAKE_SECONDS = 600  # a real bake would outlast the test
    order = SpecialOrderFactory(writing="Ana")
    PictureFactory(product=order.product)

    baking.special_order_bake(
        order_id=order.pk, baker="test/1", max_attempts=MAX_ATTEMPTS, trivial=True
    )

    order.refresh_from_db()
    with default_storage.open(order.image, "rb") as stored:
        assert stored.read() == render_writing(writing="Ana", picture=None)
    assert len(mail.outbox) == 1  # every other step as for a real bake
