"""The cake's writing: drawn in a font that has every letter of it (never a box), refused
by the form naming what the font lacks, and always inside the picture."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image, ImageChops, ImageFont

from orders import baking
from orders.actors import MAX_ATTEMPTS
from orders.cake_font import cake_font_path, characters_missing
from orders.checks import check_cake_font
from orders.errors import UndrawableWritingError
from orders.models import SpecialOrder
from orders.rendering import MARGIN, PLAIN_CAKE, SIZE, render_writing
from tests.factories import SpecialOrderFactory
from tests.orders.conftest import NEW, order_form

NORDIC = "Åsa Zoë José Ærø"
NOT_IN_THE_FONT = "中"  # CJK UNIFIED IDEOGRAPH-4E2D: DejaVu has no CJK
NOTDEF = "\U0010fffd"  # a private-use code point no font maps: drawn as the .notdef box


def _mask(font: ImageFont.FreeTypeFont, character: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(character)
    return mask.size, bytes(mask)


def _drawn_as_a_box(font: ImageFont.FreeTypeFont, character: str) -> bool:
    return _mask(font, character) == _mask(font, NOTDEF)


def _writing_box(png: bytes) -> tuple[int, int, int, int]:
    """Where a picture baked on the plain cake differs from the plain cake: the writing."""
    baked = Image.open(io.BytesIO(png)).convert("RGB")
    box = ImageChops.difference(baked, Image.new("RGB", SIZE, PLAIN_CAKE)).getbbox()
    assert box is not None, "nothing was written"
    return box


def test_the_box_check_catches_pillows_bundled_font_drawing_a_box_for_a_ring():
    bundled = ImageFont.load_default(size=48)  # what the cakes were written in before
    assert _drawn_as_a_box(bundled, "Å")
    assert not _drawn_as_a_box(bundled, "A")


@pytest.mark.django_db
def test_asa_zoe_jose_aero_is_baked_with_every_glyph_drawn():
    order = SpecialOrderFactory(writing=NORDIC)  # no picture: the plain cake

    baking.special_order_bake(order_id=order.pk, baker="test/1", max_attempts=MAX_ATTEMPTS)

    order.refresh_from_db()
    assert order.status == SpecialOrder.Status.READY
    with default_storage.open(order.image, "rb") as stored:
        baked = stored.read()
    assert baked == render_writing(writing=NORDIC, picture=None)
    font = ImageFont.truetype(str(cake_font_path()), 48)
    assert characters_missing(NORDIC) == []
    for character in set(NORDIC) - {" "}:
        size, pixels = _mask(font, character)
        assert any(pixels), f"{character!r} drew nothing"
        assert not _drawn_as_a_box(font, character), f"{character!r} was drawn as a box"
    left, top, right, bottom = _writing_box(baked)
    assert right - left > SIZE[0] / 3  # written large, across the cake


@pytest.mark.parametrize("writing", ["W" * 50, "W" * 24 + " " + "W" * 25, "Ǻ̈̈" * 16])
def test_writing_too_wide_for_one_line_stays_inside_the_picture(writing):
    left, top, right, bottom = _writing_box(render_writing(writing=writing, picture=None))

    assert left >= MARGIN and right <= SIZE[0] - MARGIN, (left, right)
    assert top >= MARGIN and bottom <= SIZE[1] - MARGIN, (top, bottom)
    assert right - left > SIZE[0] / 2  # wrapped or shrunk, not shrunk to nothing


def test_writing_the_font_cannot_draw_is_never_baked_as_boxes():
    with pytest.raises(UndrawableWritingError, match="CJK UNIFIED IDEOGRAPH-4E2D"):
        render_writing(writing=f"Hi {NOT_IN_THE_FONT}", picture=None)


@pytest.mark.django_db
def test_the_form_refuses_a_character_the_font_lacks_naming_it(client, product):
    response = client.post(NEW, order_form(product.slug, f"Happy {NOT_IN_THE_FONT} day"))

    assert response.status_code == 400  # the form page again, as for any invalid order
    assert "We cannot write “中” (CJK UNIFIED IDEOGRAPH-4E2D) on a cake" in response.text
    assert f'value="Happy {NOT_IN_THE_FONT} day"' in response.text  # kept, to edit
    assert not SpecialOrder.objects.exists()


@pytest.mark.django_db
def test_the_form_takes_nordic_names_and_accents_typed_as_combining_marks(client, product):
    decomposed = "Jose\u0301 A\u030asa"  # e + COMBINING ACUTE, A + COMBINING RING

    response = client.post(NEW, order_form(product.slug, decomposed))

    assert response.status_code == 302
    assert SpecialOrder.objects.get().writing == "José Åsa"  # stored precomposed (NFC)


@pytest.mark.django_db
def test_the_form_refuses_a_tall_stack_of_combining_marks(client, product):
    zalgo = "x" + "\u0301\u0300\u0302" + "oe"  # no precomposed x with any of them

    response = client.post(NEW, order_form(product.slug, zalgo))

    assert response.status_code == 400
    assert "at most 2 accents" in response.text
    assert not SpecialOrder.objects.exists()


def test_a_missing_font_fails_the_system_check_naming_the_path_and_the_fix(settings, tmp_path):
    settings.CAKE_FONT_PATH = tmp_path / "no-such-font.ttf"

    [error] = check_cake_font()

    assert error.id == "scaleshop.E006"
    assert str(tmp_path / "no-such-font.ttf") in error.msg
    assert "fonts-dejavu-core" in error.msg
